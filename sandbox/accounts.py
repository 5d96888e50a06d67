"""One system account per grant workspace (``useradd``/``userdel``)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import pwd
import re
import signal
import subprocess
import time

from sandbox.exceptions import IsolationError

PREFIX = "pdsw-"
_LOCK_RETRIES = 50


def account_name(grant_id: str, scope: str = "") -> str:
    """A valid, stable system user name for a grant (at most 32 characters).

    ``scope`` (the workspace root) keeps two deployments on one host from sharing accounts.
    """
    slug = re.sub(r"[^a-z0-9]+", "-", grant_id.lower()).strip("-")[:16] or "grant"
    digest = hashlib.sha256(f"{scope}\0{grant_id}".encode()).hexdigest()[:8]
    return f"{PREFIX}{slug}-{digest}"


def lookup(name: str) -> tuple[int, int] | None:
    """The (uid, gid) of an account, or None if it does not exist."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid


def ensure_account(name: str) -> tuple[int, int]:
    """Create the system account (no home, no login shell) if missing; return (uid, gid)."""
    found = lookup(name)
    if found:
        return found
    _run_locked(
        [
            "useradd",
            "--system",
            "--user-group",
            "--no-create-home",
            "--home-dir",
            "/nonexistent",
            "--shell",
            "/usr/sbin/nologin",
            "--comment",
            "pds workspace",
            name,
        ]
    )
    found = lookup(name)
    if not found:
        raise IsolationError(f"useradd did not create {name}")
    return found


def delete_account(name: str) -> bool:
    """Delete the account and its group, ending its leftover processes; False if none existed."""
    if not name.startswith(PREFIX):
        raise IsolationError(f"{name} is not a workspace account")
    found = lookup(name)
    if found is None:
        return False
    for _ in range(3):
        try:
            _run_locked(["userdel", name])
            return True
        except IsolationError as e:
            if "used by process" not in str(e):
                raise
            kill_processes_of(found[0])
    _run_locked(["userdel", name])
    return True


def kill_processes_of(uid: int) -> int:
    """SIGKILL every process whose real uid is ``uid``; returns how many were signalled."""
    if uid == 0:
        raise IsolationError("refusing to kill the processes of root")
    killed = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/status") as f:
                uids = next(line for line in f if line.startswith("Uid:")).split()[1:]
        except (OSError, StopIteration):
            continue
        if int(uids[0]) == uid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(entry.name), signal.SIGKILL)
                killed += 1
    time.sleep(0.05)
    return killed


def _run_locked(cmd: list[str]) -> None:
    """Run a shadow-utils command, retrying while another one holds /etc/passwd."""
    for _ in range(_LOCK_RETRIES):
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode == 0:
            return
        if "lock" not in proc.stderr.lower():
            raise IsolationError(f"{cmd[0]} failed: {proc.stderr.strip()}")
        time.sleep(0.05)
    raise IsolationError(f"{cmd[0]}: /etc/passwd stayed locked")
