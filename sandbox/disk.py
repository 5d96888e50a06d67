"""A disk limit per workspace: the home is an ext4 image of that size, loop-mounted."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from sandbox.exceptions import IsolationError

MOUNT_OPTIONS = "loop,nosuid,nodev"


def is_mounted(mountpoint: Path) -> bool:
    """True if something is mounted exactly at ``mountpoint``."""
    target = os.path.realpath(mountpoint)
    with open("/proc/self/mounts") as f:
        return any(line.split()[1] == target for line in f)


def ensure_volume(image: Path, mountpoint: Path, size: int, uid: int, gid: int) -> bool:
    """Create the image (first time), mount it at ``mountpoint`` owned by uid:gid, mode 0700.

    Returns True when the image was created now.
    """
    created = False
    if not image.exists():
        with open(image, "wb") as f:
            f.truncate(size)
        os.chmod(image, 0o600)
        _run(
            [
                "mkfs.ext4",
                "-q",
                "-F",
                "-m",
                "0",
                "-O",
                "^has_journal",
                "-E",
                f"root_owner={uid}:{gid},lazy_itable_init=1",
                str(image),
            ]
        )
        created = True
    mountpoint.mkdir(mode=0o700, exist_ok=True)
    if not is_mounted(mountpoint):
        _run(["mount", "-o", MOUNT_OPTIONS, str(image), str(mountpoint)], retries=20)
    os.chown(mountpoint, uid, gid)
    os.chmod(mountpoint, 0o700)
    lost = mountpoint / "lost+found"
    if lost.is_dir() and not any(lost.iterdir()):
        lost.rmdir()
    return created


def unmount(mountpoint: Path) -> None:
    """Unmount the workspace volume if mounted (lazily if still busy)."""
    if not is_mounted(mountpoint):
        return
    proc = subprocess.run(["umount", str(mountpoint)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        _run(["umount", "-l", str(mountpoint)])


def _run(cmd: list[str], retries: int = 1) -> None:
    err = ""
    for _ in range(retries):
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode == 0:
            return
        err = proc.stderr.strip()
        time.sleep(0.05)
    raise IsolationError(f"{cmd[0]} failed: {err}")
