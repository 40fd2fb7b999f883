"""The `guardianes` command line: `main.py` mounts one module per command group."""
