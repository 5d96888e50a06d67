"""Errors of the ``sandbox`` package."""


class Error(Exception):
    """Base of every error this package raises on purpose."""


class NoActiveGrant(Error):
    """A workspace was asked for without an active grant behind it."""


class IsolationError(Error):
    """The host cannot provide a piece of the isolation (cgroups, accounts, disk, seccomp)."""


class WorkspaceStartError(Error):
    """The single-user server died or did not listen while starting."""
