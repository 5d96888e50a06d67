"""Reading a file out of a grant's workspace outbox on the host, trusting nothing in it.

The workspace names files relative to its outbox; the portal (root on the host) opens each
component relative to its parent with ``O_NOFOLLOW``, accepts only a regular file within the size
limit, and reads it once: what it read is what is checked and held.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath

from open_portal.exceptions import InvalidInput


def outbox_of(grant_id: str) -> Path:
    """The grant's workspace outbox on the host (``<workspace home>/outbox``)."""
    from sandbox.config import get_settings
    from sandbox.workspace import WorkspaceLayout

    settings = get_settings()
    layout = WorkspaceLayout.of(grant_id, settings.workspace_root, settings.workspace_run_dir)
    return layout.home / "outbox"


def clean_name(name: str) -> str:
    """A relative path inside the outbox, or ``InvalidInput``."""
    if not isinstance(name, str) or not name or len(name) > 512:
        raise InvalidInput("a file name is empty or too long", zh="文件名为空或过长")
    path = PurePosixPath(name)
    if (
        path.is_absolute()
        or "\\" in name
        or any(ord(c) < 32 for c in name)
        or any(part in ("", ".", "..") for part in name.split("/"))
    ):
        raise InvalidInput(
            f"{name!r} is not a plain path inside the outbox", zh=f"{name} 不是发件箱内的普通路径"
        )
    return str(path)


def read_outbox_file(outbox: Path, name: str, *, max_bytes: int) -> bytes:
    """Read ``outbox/name`` without following any symlink, as a regular file within the limit.

    Every component is opened relative to its parent with ``O_NOFOLLOW``, so nothing the
    workspace puts in the outbox (symlinks, FIFOs, devices, hard-to-see renames) leads outside it.
    """
    name = clean_name(name)
    refuse = InvalidInput(f"{name!r} is not a file in the outbox", zh=f"{name} 不是发件箱中的文件")
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        home_fd = os.open(outbox.parent, flags | os.O_DIRECTORY)
    except OSError:
        raise refuse from None
    fds = [home_fd]
    try:
        parts = ["outbox", *name.split("/")]
        for part in parts[:-1]:
            fds.append(os.open(part, flags | os.O_DIRECTORY, dir_fd=fds[-1]))
        fd = os.open(parts[-1], flags | os.O_NONBLOCK, dir_fd=fds[-1])
        fds.append(fd)
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise refuse
        if info.st_size > max_bytes:
            raise InvalidInput(
                f"{name} is {info.st_size} bytes, above the limit of {max_bytes}",
                zh=f"{name} 大小为 {info.st_size} 字节，超过上限 {max_bytes}",
            )
        chunks, total = [], 0
        while chunk := os.read(fd, 1 << 20):
            total += len(chunk)
            if total > max_bytes:
                raise InvalidInput(f"{name} grew above the size limit", zh=f"{name} 超过大小上限")
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError:
        raise refuse from None
    finally:
        for opened in reversed(fds):
            os.close(opened)
