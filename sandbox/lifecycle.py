"""What the portal calls when a grant changes: stop a workspace, destroy it.

``stop_workspace`` (grant suspended or revoked) asks the hub to stop the named server at once.
``destroy_workspace`` (grant ended) stops it, hashes and removes its files, deletes its system
account and cgroup, and returns what was destroyed for the destruction certificate.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import httpx

from sandbox import accounts, cgroups, disk, events, mounts
from sandbox.config import get_settings
from sandbox.exceptions import Error
from sandbox.workspace import WorkspaceLayout

DESTRUCTION_METHOD = "files removed, volume image deleted, account deleted (NIST SP 800-88 clear)"


@dataclass(frozen=True)
class DestroyedFile:
    """One file of a destroyed workspace."""

    path: str  # relative to the workspace home
    size: int
    sha256: str


@dataclass(frozen=True)
class DestroyedWorkspace:
    """What ``destroy_workspace`` removed, for the destruction certificate."""

    grant_id: str
    account: str
    files: tuple[DestroyedFile, ...]
    total_bytes: int
    manifest_sha256: str  # sha256 over "path\tsize\tsha256\n" lines, sorted by path
    method: str
    destroyed_at: datetime
    account_deleted: bool
    removed: tuple[str, ...] = field(default=())  # host paths removed


def stop_workspace(
    hub_api_url: str,
    token: str,
    user: str,
    grant_id: str,
    *,
    remove: bool = False,
    timeout: float = 60.0,
) -> bool:
    """Stop the named server ``grant_id`` of ``user`` through the hub's REST API.

    ``remove`` also deletes the named server from the hub (on Kubernetes this deletes its PVC).
    Returns True if a server was running and is now stopped, False if none was running.
    """
    base = hub_api_url.rstrip("/")
    url = f"{base}/users/{quote(user, safe='')}/servers/{quote(grant_id, safe='')}"
    headers = {"Authorization": f"token {token}"}
    with httpx.Client(timeout=timeout) as http:
        running = _running(http, base, user, grant_id, headers)
        if not running and not remove:
            return False
        response = http.request(
            "DELETE", url, headers=headers, json={"remove": True} if remove else None
        )
        if response.status_code == 404 or not running:
            return False
        if response.status_code not in (202, 204):
            raise Error(f"hub refused to stop {user}/{grant_id}: {response.status_code}")
        deadline = time.monotonic() + timeout
        while response.status_code == 202 and time.monotonic() < deadline:
            if not _running(http, base, user, grant_id, headers):
                return True
            time.sleep(0.2)
        if response.status_code == 202:
            raise Error(f"{user}/{grant_id} did not stop in {timeout} s")
    return True


def _running(
    http: httpx.Client, base: str, user: str, grant_id: str, headers: dict[str, str]
) -> bool:
    state = http.get(f"{base}/users/{quote(user, safe='')}", headers=headers)
    if state.status_code == 404:
        return False
    state.raise_for_status()
    server = state.json().get("servers", {}).get(grant_id)
    return bool(server and (server.get("ready") or server.get("pending")))


def destroy_workspace(
    grant_id: str,
    *,
    actor: str = "system",
    hub_api_url: str | None = None,
    token: str | None = None,
    user: str | None = None,
    workspace_root: Path | None = None,
    run_root: Path | None = None,
    cgroup_parent: str = "pds",
) -> DestroyedWorkspace:
    """Stop (if hub details are given), hash and remove the workspace; delete its account.

    Runs as root on the host. Safe to call again: a second call destroys nothing more.
    """
    settings = get_settings()
    layout = WorkspaceLayout.of(
        grant_id,
        workspace_root or settings.workspace_root,
        run_root or settings.workspace_run_dir,
    )
    if hub_api_url and token and user:
        stop_workspace(hub_api_url, token, user, grant_id, remove=True)
    group = cgroups.cgroup_for(cgroup_parent, layout.cgroup_name)
    with contextlib.suppress(FileNotFoundError):
        cgroups.kill_all(group)
    cgroups.remove(group)
    mounts.unbind(layout.release)
    files = _hash_home(layout)
    disk.unmount(layout.home)
    removed = [str(p) for p in (layout.dir, layout.run_dir) if p.exists()]
    for path in (layout.dir, layout.run_dir):
        shutil.rmtree(path, ignore_errors=True)
    account = layout.account
    deleted = accounts.delete_account(account)
    manifest = hashlib.sha256(
        "".join(f"{f.path}\t{f.size}\t{f.sha256}\n" for f in files).encode()
    ).hexdigest()
    result = DestroyedWorkspace(
        grant_id=grant_id,
        account=account,
        files=files,
        total_bytes=sum(f.size for f in files),
        manifest_sha256=manifest,
        method=DESTRUCTION_METHOD,
        destroyed_at=datetime.now(UTC),
        account_deleted=deleted,
        removed=tuple(removed),
    )
    events.record(
        events.DESTROYED,
        actor=actor,
        grant_id=grant_id,
        obj=f"workspace:{grant_id}",
        details={
            "account": account,
            "files": len(files),
            "total_bytes": result.total_bytes,
            "manifest_sha256": manifest,
            "method": DESTRUCTION_METHOD,
        },
    )
    return result


def _hash_home(layout: WorkspaceLayout) -> tuple[DestroyedFile, ...]:
    """Hash every file of the workspace home (mounting its image read-only if needed)."""
    if disk.is_mounted(layout.home):
        return _hash_tree(layout.home)
    if layout.image.exists():
        with tempfile.TemporaryDirectory(prefix="pds-destroy-") as tmp:
            proc = subprocess.run(
                ["mount", "-o", "loop,ro,nosuid,nodev,noexec", str(layout.image), tmp],
                capture_output=True,
                check=False,
            )
            if proc.returncode != 0:
                return ()
            try:
                return _hash_tree(Path(tmp))
            finally:
                subprocess.run(["umount", tmp], capture_output=True, check=False)
    if layout.home.is_dir():
        return _hash_tree(layout.home)
    return ()


def _hash_tree(root: Path) -> tuple[DestroyedFile, ...]:
    out: list[DestroyedFile] = []
    for dirpath, _dirs, names in os.walk(root, followlinks=False):
        for name in names:
            path = Path(dirpath) / name
            if path.is_symlink() or not path.is_file():
                continue
            digest = hashlib.sha256()
            with open(path, "rb", buffering=0) as f:
                while chunk := f.read(1 << 20):
                    digest.update(chunk)
            out.append(
                DestroyedFile(str(path.relative_to(root)), path.stat().st_size, digest.hexdigest())
            )
    return tuple(sorted(out, key=lambda f: f.path))
