"""Errors of the ``audit`` package."""


class Error(Exception):
    """Base of every error this package raises on purpose."""


class EventError(Error):
    """An event cannot be recorded: bad time, details that are not JSON, a malformed entry."""


class VerificationError(Error):
    """A proof, a signature, a checkpoint or an evidence bundle does not verify."""


class IntegrityError(Error):
    """The log on disk is damaged or has been changed: an alarm, never repaired silently."""


class ForkError(IntegrityError):
    """A new checkpoint would not be consistent with the last signed one; nothing is signed."""


class KeyFileError(Error):
    """A key file is missing, malformed or readable by others."""


class NotFound(Error):
    """No such entry, checkpoint or certificate in the log."""
