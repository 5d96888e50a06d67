"""Errors of the ``desensitize`` package."""


class Error(Exception):
    """Base of every error this package raises on purpose."""


class UnreadableFileError(Error):
    """A table or file that cannot be read: missing, of an unknown type, or malformed."""


class UnsupportedLanguageError(Error):
    """A language no recognizers exist for."""


class PolicyError(Error):
    """A desensitization policy that is invalid or does not fit the table it is applied to."""


class UnknownColumnError(PolicyError):
    """A policy names a column the table does not have."""


class UnprotectedIdentifierError(PolicyError):
    """A detected identifier column that the policy leaves untouched without saying ``keep``."""


class KeyFileError(Error):
    """A pseudonymization key that is missing, unreadable or too short."""


class ColumnTypeError(Error):
    """A column type that is unknown or does not fit the column's values."""
