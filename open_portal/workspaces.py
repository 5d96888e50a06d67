"""The portal's side of workspaces: which grant a named server belongs to, and its release.

``workspace_grant`` is the spawner's grant provider (it runs in the hub process). Each dataset of
a grant has its own level: for the datasets granted at L2 it prepares the grant's desensitized
release (keyed pseudonyms under the grant's own key) once, and hands the spawner the directory to
mount read-only. Datasets granted at L3 get no record-level data (DP answers only).
"""

from __future__ import annotations

import logging
import os
import subprocess
import threading
from pathlib import Path

from sqlalchemy import select

from open_portal import dates, permissions
from open_portal.config import get_settings, make_private_dir
from open_portal.models import Dataset, DatasetVersion, Grant, Level, Release
from open_portal.service import catalog, detection, workspace_credentials
from open_portal.service.auditing import record
from open_portal.service.context import Portal, open_portal
from open_portal.vault import Vault, VaultError, sha256_hex
from sandbox.grants import WorkspaceDataset, WorkspaceGrant

log = logging.getLogger(__name__)
_portal: Portal | None = None
_lock = threading.Lock()


def portal() -> Portal:
    """The portal context of this (hub) process, opened on first use."""
    global _portal
    with _lock:
        if _portal is None:
            _portal = open_portal(get_settings(), run_migrations=False)
        return _portal


def release_root(p: Portal, grant_id: str) -> Path:
    return p.settings.releases_dir / "grants" / grant_id


def release_dir(p: Portal, grant_id: str) -> Path:
    """Where the workspace's release is mounted from: memory only (tmpfs), never the disk."""
    return release_root(p, grant_id) / "plain"


def sealed_dir(p: Portal, grant_id: str) -> Path:
    """The release at rest, sealed under the grant's key: erasing the key makes it unreadable."""
    return release_root(p, grant_id) / "sealed"


def mount_memory(directory: Path) -> bool:
    """Mount a private tmpfs on ``directory`` (root only, 0700); False when it stays a plain
    directory. The spawner gives the grant's workspace group read access when it mounts it."""
    make_private_dir(directory)
    if os.path.ismount(directory):
        return True
    if os.geteuid() != 0:
        log.warning(
            "not root: the release of %s is kept on disk, not in memory", directory.parent.name
        )
        return False
    options = "size=4g,mode=0700,nosuid,nodev,noexec"
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "pds-release", str(directory)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        log.warning("tmpfs for %s: %s", directory, done.stderr.strip())
        return False
    return True


def unmount_memory(directory: Path) -> bool:
    """Unmount the release's tmpfs (its plaintext is gone with it); True if one was mounted."""
    if not os.path.ismount(directory):
        return False
    subprocess.run(["umount", str(directory)], capture_output=True, text=True, check=True)
    return True


def prepare_release(p: Portal, grant: Grant) -> Path:
    """Desensitize each dataset granted at L2 with the grant's key, once.

    The release is written into memory (tmpfs) for the workspace to mount read-only, and a copy
    is sealed to disk under the grant's key, from which memory is refilled after a restart.
    """
    plain = release_dir(p, grant.id)
    vault = Vault(sealed_dir(p, grant.id), p.vault.master_key)
    mount_memory(plain)
    # the spans of the versions' free text are found (once per version) before the transaction
    with p.sessions() as session:
        held = session.get(Grant, grant.id)
        versions = [i.version_id for i in held.datasets if i.level == Level.L2] if held else []
    for version_id in versions:
        detection.kept_spans(p, version_id=version_id)
    with p.sessions.begin() as session:
        grant = session.get(Grant, grant.id)  # type: ignore[assignment]
        assert grant is not None and grant.wrapped_key is not None
        key = p.vault.unwrap(grant.wrapped_key)
        for item in grant.datasets:
            if item.level != Level.L2:
                continue  # DP answers only: never written where the workspace can read it
            name = f"{item.dataset_id}.parquet"
            if (plain / name).exists():
                continue
            done = session.scalar(
                select(Release).where(
                    Release.grant_id == grant.id, Release.version_id == item.version_id
                )
            )
            if done is not None and (vault.root / name).exists():
                data = vault.open(name, grant.wrapped_key)
                if sha256_hex(data) != done.sha256:
                    raise VaultError(f"the sealed release {name} does not match its record")
                (plain / name).write_bytes(data)
                continue
            version = session.get(DatasetVersion, item.version_id)
            assert version is not None
            release = catalog.build_release(
                p, session, version, grant_id=grant.id, key=key, out_dir=plain
            )
            vault.seal(name, (plain / name).read_bytes(), grant.wrapped_key)
            record(
                p,
                "release.prepared",
                actor="system",
                subject=f"grant:{grant.id}",
                object=f"dataset:{item.dataset_id}",
                version=version.number,
                sha256=release.sha256,
            )
    return plain


def workspace_grant(user_name: str, server_name: str) -> WorkspaceGrant | None:
    """The spawner's grant provider: is ``server_name`` a grant ``user_name`` may use now?"""
    p = portal()
    with p.sessions() as session:
        grant = session.get(Grant, server_name)
        if grant is None:
            return None
        now = p.clock()
        usable = permissions.can_use_grant(p.policy, session, user_name, grant, now)
        if usable:
            reason = ""
        elif not permissions.can_read_grant(p.policy, session, user_name, grant, now):
            reason = "您不是该授权的成员 / you are not a member of this grant"
        elif grant.is_usable(now):
            reason = "您不能使用该授权 / you may not use this grant (members only)"
        else:
            reason = f"授权状态为 {grant.status.value}，或不在有效期内 / the grant is {grant.status.value} or outside its term"
        # the sandbox mounts a release only for "L2": a grant with any dataset granted at L2
        has_records = bool(grant.record_level_ids)
        ends_at = grant.ends_at
        datasets = [session.get(Dataset, d.dataset_id) for d in grant.datasets]
        shown = tuple(
            _shown_dataset(dataset, grant.levels[dataset.id].value)
            for dataset in datasets
            if dataset is not None
        )
        budget = grant.epsilon_budget
    directory = None
    if usable and has_records:
        directory = prepare_release(p, grant)
    return WorkspaceGrant(
        grant_id=server_name,
        user=user_name,
        level=Level.L2.value if has_records else Level.L3.value,
        active=usable,
        ends_at=ends_at,
        release_dir=directory,
        reason=reason or ("" if datasets else "no datasets"),
        datasets=shown,
        epsilon_budget=budget,
        last_day=dates.last_day(ends_at, p.settings.time_zone).isoformat(),
    )


def _shown_dataset(dataset: Dataset, level: str) -> WorkspaceDataset:
    """A dataset as the welcome notebook presents it (with its DP columns, if declared)."""
    columns = dict((dataset.dp_schema or {}).get("columns") or {})
    kinds = {name: str(spec.get("type", "")) for name, spec in columns.items()}
    return WorkspaceDataset(
        id=dataset.id,
        title_zh=dataset.title_zh,
        title_en=dataset.title_en,
        level=level,
        numeric=tuple(n for n, k in kinds.items() if k == "numeric"),
        categorical=tuple(n for n, k in kinds.items() if k == "categorical"),
    )


def issue_credential(user_name: str, server_name: str) -> str:
    """The spawner's credential issuer: a new workspace credential for this member and grant."""
    return workspace_credentials.issue(portal(), grant_id=server_name, user=user_name)


def revoke_credential(user_name: str, server_name: str) -> None:
    """The spawner's credential revoker: the member's workspace of this grant has stopped."""
    workspace_credentials.revoke(portal(), grant_id=server_name, user=user_name)
