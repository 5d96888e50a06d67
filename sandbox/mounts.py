"""Read-only bind mounts of a grant's release into the workspace's runtime directory."""

from __future__ import annotations

import subprocess
from pathlib import Path

from sandbox.disk import is_mounted
from sandbox.exceptions import IsolationError

RO_OPTIONS = "remount,bind,ro,nosuid,nodev,noexec"


def bind_readonly(source: Path, target: Path) -> None:
    """Bind ``source`` at ``target`` read-only (idempotent)."""
    target.mkdir(mode=0o700, exist_ok=True)
    if is_mounted(target):
        return
    target.chmod(0o700)  # hidden under the mount; closed when nothing is mounted
    _run(["mount", "--bind", str(source), str(target)])
    try:
        _run(["mount", "-o", RO_OPTIONS, str(target)])
    except IsolationError:
        _run(["umount", "-l", str(target)])
        raise


def unbind(target: Path) -> None:
    """Undo :func:`bind_readonly` (lazily if busy)."""
    if is_mounted(target):
        proc = subprocess.run(["umount", str(target)], capture_output=True, check=False)
        if proc.returncode != 0:
            _run(["umount", "-l", str(target)])


def _run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise IsolationError(f"{' '.join(cmd[:2])} failed: {proc.stderr.strip()}")
