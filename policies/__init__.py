"""Access policy: a Casbin model and its rules in the database.

``can`` and ``check_can`` are the only entry points; nothing else calls ``enforce()``.
"""

from __future__ import annotations

from policies.enforcer import Policy, Resource, Subject
from policies.exceptions import AccessDenied

_policy: Policy | None = None


def install(policy: Policy) -> None:
    """Make ``policy`` the one this process decides with."""
    global _policy
    _policy = policy


def current() -> Policy:
    if _policy is None:
        raise RuntimeError("no policy installed: call policies.install() at start-up")
    return _policy


def can(subject: Subject, action: str, resource: Resource) -> bool:
    """Whether the policy allows ``subject`` to do ``action`` on ``resource``."""
    return current().can(subject, action, resource)


def check_can(subject: Subject, action: str, resource: Resource) -> None:
    """Raise ``AccessDenied`` unless the policy allows it."""
    current().check_can(subject, action, resource)


__all__ = [
    "AccessDenied",
    "Policy",
    "Resource",
    "Subject",
    "can",
    "check_can",
    "current",
    "install",
]
