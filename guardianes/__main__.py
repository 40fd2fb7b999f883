"""`python -m guardianes` runs the command line."""

from guardianes.cli import main

main()
