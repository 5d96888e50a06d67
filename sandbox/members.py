"""Per-member homes and the shared, data-only folders of a grant's workspace volume.

A grant's volume (``WorkspaceLayout.home`` on the host) is root-owned 0711 and is never mounted
into a workspace as a whole. It holds::

    members/<member key>/   one member's home (the workspace account, 0700): bound at the home
                            only in that member's sandbox, so its .jupyter, .ipython, .local,
                            .config, .cache and .bashrc are read by that member's processes alone
    project/                the shared data folder, bound at ~/project in every member's sandbox
    outbox/                 the shared export outbox, bound at ~/outbox (the portal reads it)

All members run as the grant's one account, one at a time, so what keeps a member's home from
the others is that it is mounted only into its own member's sandbox. A volume from before this
layout (one home at its root) is converted once: visible entries move to ``project/`` (they are
data), hidden ones (configuration that ran at start) to ``.legacy/`` (root only), which nobody's
sandbox mounts; both are kept until the workspace is destroyed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from sandbox.exceptions import IsolationError

MEMBERS = "members"
PROJECT = "project"
OUTBOX = "outbox"
LEGACY = ".legacy"
SHARED = (PROJECT, OUTBOX)
_KEEP_AT_ROOT = {MEMBERS, PROJECT, OUTBOX, LEGACY, "lost+found"}


# search paths that could point a server or kernel at configuration outside the member's home
UNSET_ENV = (
    "JUPYTER_PATH",
    "JUPYTER_CONFIG_PATH",
    "JUPYTER_PREFER_ENV_PATH",
    "PYTHONPATH",
    "PYTHONSTARTUP",
    "PYTHONHOME",
    "MATPLOTLIBRC",
    "BASH_ENV",
    "ENV",
)


# how every workspace server serves files: viewing in the lab, no raw downloads (sandbox.labguard)
SERVER_ARGS = ("--ServerApp.contents_manager_class=sandbox.labguard.GuardedContentsManager",)


def member_environment(home: str) -> dict[str, str]:
    """Where a member's server, kernels and shells read configuration and code at start: all in
    the member's own ``home``; the working directory (often a shared folder) is never on
    ``sys.path`` (``PYTHONSAFEPATH``, which IPython honours like ``ignore_cwd``)."""
    return {
        "HOME": home,
        "JUPYTER_CONFIG_DIR": f"{home}/.jupyter",
        "JUPYTER_DATA_DIR": f"{home}/.local/share/jupyter",
        "IPYTHONDIR": f"{home}/.ipython",
        "PYTHONUSERBASE": f"{home}/.local",
        "MPLCONFIGDIR": f"{home}/.config/matplotlib",
        "XDG_CONFIG_HOME": f"{home}/.config",
        "XDG_DATA_HOME": f"{home}/.local/share",
        "XDG_CACHE_HOME": f"{home}/.cache",
        "PYTHONSAFEPATH": "1",
    }


def member_key(user: str) -> str:
    """The directory name of a member's home: readable, unique to the user name."""
    slug = re.sub(r"[^a-z0-9]+", "-", user.lower()).strip("-")[:24] or "member"
    return f"{slug}-{hashlib.sha256(user.encode()).hexdigest()[:12]}"


@dataclass(frozen=True)
class MemberPaths:
    """Host paths bound into one member's sandbox."""

    home: Path  # bound read-write at the home
    project: Path  # bound read-write at ~/project
    outbox: Path  # bound read-write at ~/outbox

    def shared(self) -> tuple[tuple[Path, str], ...]:
        """The shared folders with their names inside the home."""
        return ((self.project, PROJECT), (self.outbox, OUTBOX))


def prepare(volume: Path, user: str, uid: int, gid: int) -> MemberPaths:
    """Lay out ``volume`` for ``user`` (idempotent; runs as root while no member's sandbox runs).

    Nothing here follows a link: the entries were made by the workspace account.
    """
    _set_owner(volume, 0, 0, 0o711)
    if not _is_real_dir(volume / MEMBERS):
        _convert_legacy(volume)
    _make_dir(volume / MEMBERS, 0, 0, 0o711)
    for name in SHARED:
        _make_dir(volume / name, uid, gid, 0o700)
    home = volume / MEMBERS / member_key(user)
    _make_dir(home, uid, gid, 0o700)
    for name in SHARED:  # where the shared folders are mounted: a directory or nothing
        _move_aside_unless_dir(home, name)
    return MemberPaths(home=home, project=volume / PROJECT, outbox=volume / OUTBOX)


def _convert_legacy(volume: Path) -> None:
    """Move a pre-member home's entries: visible ones to project/, hidden ones to .legacy/."""
    for name in sorted(os.listdir(volume)):
        if name in _KEEP_AT_ROOT and (name == "lost+found" or _is_real_dir(volume / name)):
            continue
        if name.startswith(".") or name in _KEEP_AT_ROOT:
            _make_dir(volume / LEGACY, 0, 0, 0o700)
            os.rename(volume / name, _free_name(volume / LEGACY, name))
    _make_dir(volume / PROJECT, 0, 0, 0o700)  # owner set by the caller
    for name in sorted(os.listdir(volume)):
        if name not in _KEEP_AT_ROOT:
            os.rename(volume / name, _free_name(volume / PROJECT, name))


def _move_aside_unless_dir(home: Path, name: str) -> None:
    path = home / name
    with contextlib.suppress(FileNotFoundError):
        if not _is_real_dir(path):
            os.rename(path, _free_name(home, f"{name}.moved"))


def _free_name(directory: Path, name: str) -> Path:
    path = directory / name
    if not os.path.lexists(path):
        return path
    return directory / f"{name}.{time.time_ns()}"


def _is_real_dir(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except FileNotFoundError:
        return False


def _make_dir(path: Path, uid: int, gid: int, mode: int) -> None:
    if not os.path.lexists(path):
        os.mkdir(path, 0o700)
    _set_owner(path, uid, gid, mode)


def _set_owner(path: Path, uid: int, gid: int, mode: int) -> None:
    """chown and chmod a directory through a descriptor opened without following links."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as e:
        raise IsolationError(f"{path} is not a directory: {e.strerror}") from None
    try:
        os.fchown(fd, uid, gid)
        os.fchmod(fd, mode)
    finally:
        os.close(fd)
