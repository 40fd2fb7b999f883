"""Fakes of external services: real HTTP servers on loopback that record calls."""
