"""The portal's side of workspaces: which grant a named server belongs to, and its release.

``workspace_grant`` is the spawner's grant provider (it runs in the hub process). For an L2 grant
it prepares the grant's desensitized release (keyed pseudonyms under the grant's own key) once,
and hands the spawner the directory to mount read-only. L3 grants get no record-level data.
"""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import select

from open_portal.config import get_settings
from open_portal.models import Dataset, DatasetVersion, Grant, Level, Release
from open_portal.service import catalog
from open_portal.service.auditing import record
from open_portal.service.context import Portal, open_portal
from sandbox.grants import WorkspaceGrant

_portal: Portal | None = None
_lock = threading.Lock()


def portal() -> Portal:
    """The portal context of this (hub) process, opened on first use."""
    global _portal
    with _lock:
        if _portal is None:
            _portal = open_portal(get_settings(), run_migrations=False)
        return _portal


def release_dir(p: Portal, grant_id: str) -> Path:
    return p.settings.releases_dir / "grants" / grant_id


def prepare_release(p: Portal, grant: Grant) -> Path:
    """Desensitize each dataset of an L2 grant with the grant's key (once; reused afterwards)."""
    directory = release_dir(p, grant.id)
    with p.sessions.begin() as session:
        grant = session.get(Grant, grant.id)  # type: ignore[assignment]
        assert grant is not None and grant.wrapped_key is not None
        key = p.vault.unwrap(grant.wrapped_key)
        for item in grant.datasets:
            done = session.scalar(
                select(Release).where(
                    Release.grant_id == grant.id, Release.version_id == item.version_id
                )
            )
            if done is not None and Path(done.path).exists():
                continue
            version = session.get(DatasetVersion, item.version_id)
            assert version is not None
            release = catalog.build_release(
                p, session, version, grant_id=grant.id, key=key, out_dir=directory
            )
            record(
                p,
                "release.prepared",
                actor="system",
                subject=f"grant:{grant.id}",
                object=f"dataset:{item.dataset_id}",
                version=version.number,
                sha256=release.sha256,
            )
    directory.chmod(0o755)
    return directory


def workspace_grant(user_name: str, server_name: str) -> WorkspaceGrant | None:
    """The spawner's grant provider: is ``server_name`` a grant ``user_name`` may use now?"""
    p = portal()
    with p.sessions() as session:
        grant = session.get(Grant, server_name)
        if grant is None:
            return None
        now = p.clock()
        member = user_name in grant.member_names
        usable = member and grant.is_usable(now)
        if not member:
            reason = "您不是该授权的成员 / you are not a member of this grant"
        elif not usable:
            reason = f"授权状态为 {grant.status.value}，或不在有效期内 / the grant is {grant.status.value} or outside its term"
        else:
            reason = ""
        level = grant.level
        ends_at = grant.ends_at
        datasets = [session.get(Dataset, d.dataset_id) for d in grant.datasets]
    directory = None
    if usable and level == Level.L2:
        directory = prepare_release(p, grant)
    return WorkspaceGrant(
        grant_id=server_name,
        user=user_name,
        level=level.value,
        active=usable,
        ends_at=ends_at,
        release_dir=directory,
        reason=reason or ("" if datasets else "no datasets"),
    )
