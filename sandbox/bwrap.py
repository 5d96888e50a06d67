"""The ``bwrap`` command line of a workspace, and the minimal ``/etc`` it gets."""

from __future__ import annotations

import functools
import os
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

HOME = "/home/workspace"
RELEASE = "/data/release"
RUN = "/run/pds"
SERVER_SOCKET = f"{RUN}/server/jupyter.sock"
HUB_SOCKET = f"{RUN}/hub.sock"
PORTAL_SOCKET = f"{RUN}/portal.sock"
USR_LINKS = ("bin", "sbin", "lib", "lib64", "lib32", "libx32")


@dataclass(frozen=True)
class SandboxPaths:
    """Host paths put into one workspace."""

    home: Path  # this member's home in the workspace volume, bound read-write at HOME
    run_dir: Path  # root-owned: hub.sock, portal.sock, etc/, server/ (owned by the workspace)
    env: Path  # the workspace Python environment, bound read-only at the same path
    release: Path | None  # the grant's desensitized release, read-only at RELEASE
    shared: tuple[tuple[Path, str], ...] = ()  # (host folder, name under HOME), read-write


def write_etc(etc: Path, uid: int, gid: int) -> None:
    """Write the minimal ``/etc`` of a workspace: its own account, localhost, no resolver."""
    etc.mkdir(mode=0o755, parents=True, exist_ok=True)
    etc.chmod(0o755)
    files = {
        "passwd": (
            "root:x:0:0:root:/nonexistent:/usr/sbin/nologin\n"
            f"workspace:x:{uid}:{gid}:workspace:{HOME}:/bin/bash\n"
            "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
        ),
        "group": f"root:x:0:\nworkspace:x:{gid}:\nnogroup:x:65534:\n",
        "hosts": "127.0.0.1 localhost workspace\n::1 localhost\n",
        "nsswitch.conf": "passwd: files\ngroup: files\nhosts: files\n",
        "hostname": "workspace\n",
    }
    for name, text in files.items():
        path = etc / name
        path.write_text(text)
        path.chmod(0o644)


@functools.cache
def privileged_files(root: str = "/usr") -> tuple[str, ...]:
    """The setuid and setgid regular files under ``root`` (cached: scanned once per process)."""
    proc = subprocess.run(
        ["find", root, "-xdev", "-type", "f", "-perm", "/6000", "-print0"],
        capture_output=True,
        check=False,
    )
    found = [p for p in proc.stdout.decode(errors="surrogateescape").split("\0") if p]
    return tuple(sorted(p for p in found if os.lstat(p).st_mode & (stat.S_ISUID | stat.S_ISGID)))


def command(
    paths: SandboxPaths, argv: list[str], seccomp_fd: int | None, hide: tuple[str, ...] = ()
) -> list[str]:
    """The full ``bwrap`` argv that runs ``argv`` inside the workspace.

    ``hide`` lists host files (setuid binaries) masked by ``/dev/null`` inside.
    """
    cmd = [
        "bwrap",
        "--unshare-user",
        "--disable-userns",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-net",
        "--unshare-cgroup-try",
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--hostname",
        "workspace",
        "--ro-bind",
        "/usr",
        "/usr",
    ]
    for link in USR_LINKS:
        if os.path.islink(f"/{link}"):
            cmd += ["--symlink", os.readlink(f"/{link}"), f"/{link}"]
    for path in hide:
        cmd += ["--ro-bind", "/dev/null", path]
    cmd += [
        "--ro-bind",
        str(paths.run_dir / "etc"),
        "/etc",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--tmpfs",
        "/tmp",
        "--tmpfs",
        "/var/tmp",
        "--dir",
        "/home",
        "--bind",
        str(paths.home),
        HOME,
        *[a for host, name in paths.shared for a in ("--bind", str(host), f"{HOME}/{name}")],
        "--ro-bind",
        str(paths.env),
        str(paths.env),
        "--ro-bind",
        str(paths.run_dir),
        RUN,
        "--bind",
        str(paths.run_dir / "server"),
        f"{RUN}/server",
    ]
    if paths.release is not None:
        cmd += ["--ro-bind", str(paths.release), RELEASE]
    if seccomp_fd is not None:
        cmd += ["--seccomp", str(seccomp_fd)]
    cmd += ["--chdir", HOME, "--", *argv]
    return cmd
