"""Access policy: a Casbin model and its rules in the database.

``Policy`` wraps the Casbin enforcer; each running portal owns one (``portal.policy``). The
portal asks it only through ``open_portal.permissions``; nothing else calls ``enforce()``.
"""

from __future__ import annotations

from policies.enforcer import Policy, Resource, Subject
from policies.exceptions import AccessDenied

__all__ = ["AccessDenied", "Policy", "Resource", "Subject"]
