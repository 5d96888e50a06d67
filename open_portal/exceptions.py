"""Errors of the ``open_portal`` package."""


class Error(Exception):
    """Base of every error this package raises on purpose."""
