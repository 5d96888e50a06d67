"""Errors of the ``open_portal`` package; the web layer maps each to an HTTP status."""

from __future__ import annotations


class Error(Exception):
    """Base of every error this package raises on purpose.

    ``message_zh`` is the Chinese text shown to users; ``str(error)`` is the English one.
    """

    status_code = 400

    def __init__(self, message: str, *, zh: str | None = None) -> None:
        super().__init__(message)
        self.message_zh = zh or message


class ConfigurationError(Error):
    """A missing, malformed or unsafe setting."""


class NotFound(Error):
    status_code = 404


class Forbidden(Error):
    status_code = 403


class InvalidInput(Error):
    status_code = 422


class InvalidTransition(Error):
    """A state change that the state machine does not allow from the current state."""

    status_code = 409


class AuditPending(Error):
    """A change committed whose audit event the log could not take yet (it stays queued)."""

    status_code = 503
