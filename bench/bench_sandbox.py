"""Spawn time of a sandboxed workspace (data mounted) against an unsandboxed one, and ten at once.

Two real hubs run side by side: one with ``SimpleLocalProcessSpawner`` (no isolation, the same
jupyterhub-singleuser), one with ``SandboxSpawner``; spawns alternate between them. Needs root.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import statistics
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

from bench.measure import Measure
from sandbox import accounts, bwrap, cgroups, disk, events, lifecycle, mounts, seccomp
from sandbox.config import get_settings
from sandbox.devhub import DevHub, start_hub
from sandbox.grants import WorkspaceLimits
from sandbox.workspace import WorkspaceLayout

ROUNDS = 5
RUN = secrets.token_hex(3)  # grant ids unique to this run (runs on one machine must not collide)
CONCURRENT = 10
REPO = Path(__file__).resolve().parents[1]


def _grant(grant_id: str, user: str, release: Path) -> dict[str, object]:
    return {
        "grant_id": grant_id,
        "user": user,
        "level": "L2",
        "active": True,
        "ends_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
        "release_dir": str(release),
        "limits": {
            "mem_bytes": 1024**3,
            "cpu_fraction": 1.0,
            "max_pids": 256,
            "disk_bytes": 256 * 1024**2,
        },
    }


def _timed_spawn(hub: DevHub, user: str, name: str) -> float:
    started = time.perf_counter()
    r = hub.start_server(user, name)
    elapsed = time.perf_counter() - started
    if r.status_code not in (201, 202):
        raise RuntimeError(f"spawn of {user}/{name} refused: {r.text}")
    return elapsed


def _setup_overhead(base: Path, run_root: Path, release: Path) -> tuple[float, float]:
    """Seconds to set up a fresh workspace's isolation (account, volume, cgroup, release mount,
    /etc), and seconds bwrap with the full sandbox adds to running ``true``."""
    layout = WorkspaceLayout.of(f"b-setup-{RUN}", base / "workspaces", run_root)
    limits = WorkspaceLimits(1024**3, 1.0, 256, 256 * 1024**2)
    parent = f"pds-bench-setup-{secrets.token_hex(3)}"
    started = time.perf_counter()
    uid, gid = accounts.ensure_account(layout.account)
    layout.create(uid, gid)
    disk.ensure_volume(layout.image, layout.home, limits.disk_bytes, uid, gid)
    group = cgroups.create(parent, layout.cgroup_name, limits)
    mounts.bind_readonly(release, layout.release)
    bwrap.write_etc(layout.etc, uid, gid)
    setup = time.perf_counter() - started
    paths = bwrap.SandboxPaths(
        layout.home, layout.run_dir, get_settings().workspace_env, layout.release
    )
    hide = bwrap.privileged_files()
    runs = []
    for _ in range(5):
        fd = seccomp.program_fd()
        cmd = bwrap.command(paths, ["/usr/bin/true"], fd, hide)
        t = time.perf_counter()
        subprocess.run(cmd, pass_fds=(fd,), check=True, user=uid, group=gid, extra_groups=[])
        t_sandbox = time.perf_counter() - t
        os.close(fd)
        t = time.perf_counter()
        subprocess.run(["/usr/bin/true"], check=True, user=uid, group=gid, extra_groups=[])
        runs.append(t_sandbox - (time.perf_counter() - t))
    cgroups.remove(group)
    for controller in ("memory", "pids", "cpu", ""):
        path = Path("/sys/fs/cgroup") / controller / parent
        if path.is_dir():
            path.rmdir()
    return setup, statistics.median(runs)


def run() -> list[Measure]:
    if os.geteuid() != 0:
        return [Measure("sandbox bench skipped (needs root)", 0, "")]
    env_bin = get_settings().workspace_env / "bin" / "jupyterhub-singleuser"
    base = Path(tempfile.mkdtemp(prefix="pds-bench-", dir="/var/tmp"))
    run_root = Path(tempfile.mkdtemp(prefix="pds-bench-", dir="/run"))
    for d in (base, run_root):
        d.chmod(0o711)
    release = base / "release"
    release.mkdir(mode=0o755)
    pl.DataFrame({"district": ["A", "B"] * 5000, "births": range(10000)}).write_parquet(
        release / "births.parquet"
    )
    (release / "births.parquet").chmod(0o644)
    hub_dir = Path(tempfile.mkdtemp(prefix="pds-bench-hub-"))
    grants_file = hub_dir / "grants.json"
    names = [f"b-seq{i}-{RUN}" for i in range(ROUNDS)]
    many = [(f"user{i}", f"b-many{i}-{RUN}") for i in range(CONCURRENT)]
    grants = [_grant(n, "alice", release) for n in names] + [_grant(g, u, release) for u, g in many]
    grants_file.write_text(json.dumps(grants))
    grants.append(_grant(f"b-setup-{RUN}", "alice", release))
    cgroup_parent = f"pds-bench-{secrets.token_hex(3)}"
    path_env = {"PATH": f"{REPO / 'node_modules' / '.bin'}:{os.environ.get('PATH', '')}"}
    plain: DevHub | None = None
    sandboxed: DevHub | None = None
    try:
        setup_s, bwrap_s = _setup_overhead(base, run_root, release)
        plain = start_hub(
            hub_dir / "plain",
            f"""
c.JupyterHub.spawner_class = "simple"
c.Spawner.cmd = ["{env_bin}"]
c.Spawner.args = ["--allow-root"]
c.SimpleLocalProcessSpawner.home_dir_template = "{base}/plain-{{username}}"
""",
            env=path_env,
        )
        sandboxed = start_hub(
            hub_dir / "sandbox",
            f"""
c.JupyterHub.spawner_class = "pds-sandbox"
c.SandboxSpawner.grant_provider = "sandbox.grants:json_file_provider"
c.SandboxSpawner.workspace_root = "{base / "workspaces"}"
c.SandboxSpawner.run_root = "{run_root}"
c.SandboxSpawner.cgroup_parent = "{cgroup_parent}"
""",
            env={
                **path_env,
                "PDS_SANDBOX_GRANTS_FILE": str(grants_file),
                "PDS_DATA_DIR": str(hub_dir / "var"),
            },
        )
        plain_times, sandbox_times = [], []
        for i, name in enumerate(names):  # alternate which goes first
            if i % 2:
                sandbox_times.append(_timed_spawn(sandboxed, "alice", name))
                plain_times.append(_timed_spawn(plain, "alice", name))
            else:
                plain_times.append(_timed_spawn(plain, "alice", name))
                sandbox_times.append(_timed_spawn(sandboxed, "alice", name))
        for name in names:
            plain.stop_server("alice", name)
            sandboxed.stop_server("alice", name)

        def spawn(pair: tuple[str, str]) -> float | None:
            try:
                return _timed_spawn(sandboxed, *pair)
            except Exception:
                return None

        started = time.perf_counter()
        with ThreadPoolExecutor(CONCURRENT) as pool:
            results = list(pool.map(spawn, many))
        wall = time.perf_counter() - started
        ready = {(u, g) for u, g in many if (sandboxed.server(u, g) or {}).get("ready")}
        failed = sum(
            1 for pair, took in zip(many, results, strict=True) if took is None or pair not in ready
        )
        for user, grant in many:
            sandboxed.stop_server(user, grant)
    finally:
        for hub in (plain, sandboxed):
            if hub is not None:
                hub.close()
        os.environ["PDS_DATA_DIR"] = str(hub_dir / "var")
        for item in grants:
            lifecycle.destroy_workspace(
                str(item["grant_id"]),
                workspace_root=base / "workspaces",
                run_root=run_root,
                cgroup_parent=cgroup_parent,
            )
        events.close()
        for controller in ("memory", "pids", "cpu", ""):
            path = Path("/sys/fs/cgroup") / controller / cgroup_parent
            if path.is_dir():
                path.rmdir()
        shutil.rmtree(base, ignore_errors=True)
        shutil.rmtree(run_root, ignore_errors=True)
        shutil.rmtree(hub_dir, ignore_errors=True)
    plain_s = statistics.median(plain_times)
    sandbox_s = statistics.median(sandbox_times)
    return [
        Measure("unsandboxed spawn to ready (median)", plain_s, "s", detail=_fmt(plain_times)),
        Measure(
            "sandboxed spawn to ready, data mounted (median)",
            sandbox_s,
            "s",
            detail=_fmt(sandbox_times) + ", fresh account and volume each",
        ),
        Measure("sandboxed / unsandboxed spawn time", sandbox_s / plain_s, "x", 1.5, at_most=True),
        Measure(
            "isolation setup of a fresh workspace (account, volume, cgroup, mount)", setup_s, "s"
        ),
        Measure("bwrap + seccomp + namespaces around a process (median of 5)", bwrap_s, "s"),
        Measure(
            f"failed spawns of {CONCURRENT} workspaces at once",
            failed,
            "",
            0,
            at_most=True,
            detail=f"all ready in {wall:.1f} s wall, slowest {max(r or 0 for r in results):.1f} s",
        ),
    ]


def _fmt(times: list[float]) -> str:
    return ", ".join(f"{t:.2f}" for t in times) + " s"
