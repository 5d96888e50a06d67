"""Users and their roles."""

from __future__ import annotations

from sqlalchemy import select

from open_portal import permissions
from open_portal.exceptions import InvalidInput
from open_portal.models import User
from open_portal.service.auditing import record
from open_portal.service.context import Portal

ROLES = ("researcher", "operator", "owner", "officer", "admin")


def ensure_user(portal: Portal, *, name: str, **profile: str) -> User:
    """The portal record of a hub user, created on first sight."""
    with portal.sessions.begin() as session:
        user = session.scalar(select(User).where(User.name == name))
        if user is None:
            user = User(name=name, **profile)
            session.add(user)
        else:
            for key, value in profile.items():
                setattr(user, key, value)
    return user


def change_role(
    portal: Portal, *, actor: str, user_name: str, role: str, domain: str, add: bool
) -> None:
    """Give or take a role; the policy lives in the database, so it applies at once."""
    permissions.check_can_manage_platform(portal.policy, actor)
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}", zh=f"未知角色 {role}")
    if domain != "*" and not domain.startswith("dept:"):
        raise InvalidInput("a domain is * or dept:<department>", zh="范围须为 * 或 dept:<部门>")
    if add:
        portal.policy.assign_role(user_name, role, domain)
    else:
        if user_name == actor and role == "admin":
            raise InvalidInput(
                "you cannot remove your own admin role", zh="不能移除自己的管理员角色"
            )
        portal.policy.remove_role(user_name, role, domain)
    record(
        portal,
        "role.granted" if add else "role.removed",
        actor=actor,
        subject=f"user:{user_name}",
        role=role,
        domain=domain,
    )
