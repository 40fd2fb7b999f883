"""`python -m guardianes` runs the command line."""

from guardianes.cli.main import main

main()
