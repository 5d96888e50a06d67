"""Cgroup limits and the disk volume, on the real kernel (root only)."""

from __future__ import annotations

import os
import secrets
import select
import subprocess
import time
from pathlib import Path

import pytest

from sandbox import cgroups, disk
from sandbox.grants import WorkspaceLimits

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
LIMITS = WorkspaceLimits(
    mem_bytes=64 * 1024**2, cpu_fraction=0.5, max_pids=20, disk_bytes=16 * 1024**2
)


@root_only
def test_cgroup_limits_apply_and_kill_all_empties_it() -> None:
    parent = f"pds-unit-{secrets.token_hex(3)}"
    group = cgroups.create(parent, "w1", LIMITS)
    try:
        if cgroups.is_v2():
            (d,) = group.dirs
            assert (d / "pids.max").read_text().strip() == "20"
            assert (d / "cpu.max").read_text().split()[0] == "50000"
        else:
            mem, pids, cpu = group.dirs
            assert int((mem / "memory.limit_in_bytes").read_text()) == 64 * 1024**2
            assert (pids / "pids.max").read_text().strip() == "20"
            assert (cpu / "cpu.cfs_quota_us").read_text().strip() == "50000"
        proc = subprocess.Popen(
            ["sh", "-c", "for i in $(seq 1 50); do sleep 30 & done; wait"],
            preexec_fn=lambda: cgroups.join(group),
            stderr=subprocess.PIPE,
        )
        try:
            for _ in range(400):  # up to 20 s on a crowded machine
                if proc.poll() is not None or len(group.procs()) >= 20:
                    break
                time.sleep(0.05)
            assert 15 <= len(group.procs()) <= 20  # the pids limit holds
            # the shell reports the refused fork: wait for it before ending the group
            select.select([proc.stderr], [], [], 20)
        finally:
            cgroups.kill_all(group)
            _, err = proc.communicate(timeout=5)
        assert b"fork" in err.lower() or b"resource temporarily unavailable" in err.lower()
        assert group.procs() == set()
    finally:
        cgroups.remove(group)
        for controller in ("memory", "pids", "cpu", ""):
            path = Path("/sys/fs/cgroup") / controller / parent
            if path.is_dir():
                path.rmdir()
    assert not any(d.exists() for d in group.dirs)


@root_only
def test_volume_is_limited_owned_and_private(tmp_path: Path) -> None:
    image, home = tmp_path / "home.img", tmp_path / "home"
    assert disk.ensure_volume(image, home, LIMITS.disk_bytes, 4321, 4321) is True
    try:
        assert disk.is_mounted(home)
        st = home.stat()
        assert (st.st_uid, st.st_mode & 0o777) == (4321, 0o700)
        assert image.stat().st_mode & 0o777 == 0o600
        with pytest.raises(OSError) as err, open(home / "fill", "wb") as f:
            for _ in range(LIMITS.disk_bytes // 65536 * 2):
                f.write(b"x" * 65536)
            f.flush()
            os.fsync(f.fileno())
        assert err.value.errno == 28
        (home / "fill").unlink()
        (home / "kept.txt").write_text("kept")
    finally:
        disk.unmount(home)
    assert not disk.is_mounted(home)
    assert disk.ensure_volume(image, home, LIMITS.disk_bytes, 4321, 4321) is False
    try:
        assert (home / "kept.txt").read_text() == "kept"
    finally:
        disk.unmount(home)
