"""Repositories: every query Guardianes makes lives in this package."""
