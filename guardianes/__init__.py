"""Guardianes: citizen monitoring of public services through chat."""

__version__ = "0.1.0"
