"""Errors of the ``policies`` package."""


class Error(Exception):
    """Base of every error this package raises on purpose."""
