"""Errors of the ``audit`` package."""


class Error(Exception):
    """Base of every error this package raises on purpose."""
