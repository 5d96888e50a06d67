"""Per-workspace cgroups: memory, CPU and process limits, on cgroup v1 or v2."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from sandbox.exceptions import IsolationError
from sandbox.grants import WorkspaceLimits

ROOT = Path("/sys/fs/cgroup")
CPU_PERIOD_US = 100_000
V1_CONTROLLERS = ("memory", "pids", "cpu")


@dataclass(frozen=True)
class Cgroup:
    """The directories of one workspace's cgroup (one per v1 controller, or one on v2)."""

    dirs: tuple[Path, ...]

    def procs(self) -> set[int]:
        """The pids currently in the cgroup."""
        pids: set[int] = set()
        for d in self.dirs:
            try:
                text = (d / "cgroup.procs").read_text()
            except FileNotFoundError:
                continue
            pids.update(int(p) for p in text.split())
        return pids


def is_v2(root: Path = ROOT) -> bool:
    """True on a unified (v2) hierarchy."""
    return (root / "cgroup.controllers").exists()


def cgroup_for(parent: str, name: str, root: Path = ROOT) -> Cgroup:
    """Where the workspace's cgroup lives, without creating it."""
    if is_v2(root):
        return Cgroup((root / parent / name,))
    return Cgroup(tuple(root / c / parent / name for c in V1_CONTROLLERS))


def create(parent: str, name: str, limits: WorkspaceLimits, root: Path = ROOT) -> Cgroup:
    """Create (or reuse) the cgroup and write the limits into it."""
    group = cgroup_for(parent, name, root)
    try:
        if is_v2(root):
            _enable_v2_controllers(root, parent)
            (d,) = group.dirs
            d.mkdir(parents=True, exist_ok=True)
            quota = max(1000, int(limits.cpu_fraction * CPU_PERIOD_US))
            _write(d / "memory.max", str(limits.mem_bytes))
            _write_if_exists(d / "memory.swap.max", "0")
            _write(d / "pids.max", str(limits.max_pids))
            _write(d / "cpu.max", f"{quota} {CPU_PERIOD_US}")
        else:
            mem, pids, cpu = group.dirs
            for d in group.dirs:
                d.mkdir(parents=True, exist_ok=True)
            _write(mem / "memory.limit_in_bytes", str(limits.mem_bytes))
            _write_if_exists(mem / "memory.memsw.limit_in_bytes", str(limits.mem_bytes))
            _write(pids / "pids.max", str(limits.max_pids))
            _write(cpu / "cpu.cfs_period_us", str(CPU_PERIOD_US))
            _write(
                cpu / "cpu.cfs_quota_us", str(max(1000, int(limits.cpu_fraction * CPU_PERIOD_US)))
            )
    except OSError as e:
        raise IsolationError(f"cannot set up cgroup {parent}/{name}: {e}") from e
    return group


def join(group: Cgroup) -> None:
    """Move the calling process into the cgroup (call in the child before exec; plain syscalls)."""
    pid = str(os.getpid()).encode()
    for d in group.dirs:
        fd = os.open(d / "cgroup.procs", os.O_WRONLY)
        try:
            os.write(fd, pid)
        finally:
            os.close(fd)


def kill_all(group: Cgroup, timeout: float = 5.0) -> None:
    """SIGKILL every process in the cgroup until it is empty (a fork bomb included)."""
    deadline = time.monotonic() + timeout
    while True:
        pids = group.procs()
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if time.monotonic() > deadline:
            raise IsolationError(f"processes survived SIGKILL: {sorted(pids)[:10]}")
        time.sleep(0.02)


def remove(group: Cgroup) -> None:
    """Remove the cgroup directories (they must be empty of processes)."""
    for d in group.dirs:
        for _ in range(50):
            try:
                d.rmdir()
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.02)


def _enable_v2_controllers(root: Path, parent: str) -> None:
    path = root
    for part in Path(parent).parts:
        _write_if_exists(path / "cgroup.subtree_control", "+memory +pids +cpu")
        path = path / part
        path.mkdir(exist_ok=True)
    _write_if_exists(path / "cgroup.subtree_control", "+memory +pids +cpu")


def _write(path: Path, value: str) -> None:
    with open(path, "w") as f:
        f.write(value)


def _write_if_exists(path: Path, value: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        _write(path, value)
