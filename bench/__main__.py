"""`python -m bench`: run every registered benchmark (see bench/run.py)."""

from bench.run import main

main()
