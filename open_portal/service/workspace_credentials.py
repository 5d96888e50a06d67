"""Workspace credentials: what a running workspace presents to the portal, and nothing more.

The spawner (in the hub process) issues one credential when a member's server starts and
revokes it when the server stops; a grant that stops being usable drops all of its credentials.
A credential names one grant and one member. The portal keeps only its SHA-256 (the credential
is 256 random bits, so a fast hash is enough) and accepts it only on that grant's workspace API
(``open_portal.web.workspace_boundary``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from open_portal import permissions
from open_portal.exceptions import Forbidden
from open_portal.models import Grant, WorkspaceCredential
from open_portal.service.auditing import record
from open_portal.service.context import Portal

TOKEN_PREFIX = "pdsw_"
MAX_TOKEN_LENGTH = 128


@dataclass(frozen=True)
class Holder:
    """Who a valid credential speaks for: one member, in one grant."""

    user: str
    grant_id: str


def hash_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(portal: Portal, *, grant_id: str, user: str) -> str:
    """A new credential for ``user``'s workspace of ``grant_id``; replaces the member's older one."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with portal.sessions.begin() as session:
        grant = session.get(Grant, grant_id)
        if grant is None or not permissions.can_use_grant(
            portal.policy, session, user, grant, portal.clock()
        ):
            raise Forbidden(
                f"no usable grant {grant_id!r} for {user}", zh=f"{user} 没有可用的授权 {grant_id}"
            )
        _delete(session, grant_id, user)
        session.add(
            WorkspaceCredential(token_hash=hash_of(token), grant_id=grant_id, user_name=user)
        )
        record(
            portal,
            "workspace.credential_issued",
            actor=user,
            subject=f"grant:{grant_id}",
            object=f"member:{user}",
        )
    return token


def revoke(portal: Portal, *, grant_id: str, user: str | None = None) -> int:
    """Drop the credentials of a grant (of one member, or all); returns how many there were."""
    with portal.sessions.begin() as session:
        dropped = _delete(session, grant_id, user)
        if dropped:
            record(
                portal,
                "workspace.credential_revoked",
                actor="system",
                subject=f"grant:{grant_id}",
                object=f"member:{user}" if user else None,
                count=dropped,
            )
    return dropped


def revoke_in(session: Session, grant_id: str) -> int:
    """Drop every credential of a grant inside the caller's transaction (a status change)."""
    return _delete(session, grant_id, None)


def holder_of(portal: Portal, token: str) -> Holder | None:
    """The member and grant a credential speaks for, or None if it is unknown or no longer good.

    Good means: issued and not revoked, and its member may still use its grant now
    (``permissions.can_use_grant``: a member, the grant usable).
    """
    if not token.startswith(TOKEN_PREFIX) or len(token) > MAX_TOKEN_LENGTH:
        return None
    digest = hash_of(token)
    with portal.sessions() as session:
        found = session.scalar(
            select(WorkspaceCredential).where(WorkspaceCredential.token_hash == digest)
        )
        if found is None or not hmac.compare_digest(found.token_hash, digest):
            return None
        grant = session.get(Grant, found.grant_id)
        if grant is None or not permissions.can_use_grant(
            portal.policy, session, found.user_name, grant, portal.clock()
        ):
            return None
        return Holder(user=found.user_name, grant_id=found.grant_id)


def _delete(session: Session, grant_id: str, user: str | None) -> int:
    query = delete(WorkspaceCredential).where(WorkspaceCredential.grant_id == grant_id)
    if user is not None:
        query = query.where(WorkspaceCredential.user_name == user)
    return int(session.execute(query).rowcount or 0)  # type: ignore[attr-defined]
