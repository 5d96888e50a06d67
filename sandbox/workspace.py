"""Where a grant's workspace lives on the host."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from sandbox.accounts import account_name

_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def make_traversable(path: Path) -> None:
    """Create ``path`` 0711 with each missing parent 0711, whatever the umask (the workspace
    accounts must pass through them to reach their own directories)."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for p in reversed(missing):
        p.mkdir(mode=0o711, exist_ok=True)
        os.chmod(p, 0o711)
    os.chmod(path, 0o711)


@dataclass(frozen=True)
class WorkspaceLayout:
    """Host paths of one workspace.

    ``<workspace_root>/<grant_id>/`` (0711, root) holds ``home.img`` (0600, root), ``home/`` (the
    mounted volume, 0700, the workspace account) and ``server.log``; ``<run_root>/<grant_id>/``
    (0711, root) holds ``etc/``, ``hub.sock``, ``portal.sock``, ``server/`` (0700, the workspace
    account; the server's socket) and ``release/`` (the read-only bind of the release).
    """

    grant_id: str
    dir: Path
    run_dir: Path

    @classmethod
    def of(cls, grant_id: str, workspace_root: Path, run_root: Path) -> WorkspaceLayout:
        """The layout of ``grant_id``; refuses ids that are not plain file names."""
        if not _SAFE.match(grant_id) or grant_id in {".", ".."}:
            raise ValueError(f"grant id {grant_id!r} is not a safe directory name")
        return cls(grant_id, workspace_root / grant_id, run_root / grant_id)

    @property
    def image(self) -> Path:
        return self.dir / "home.img"

    @property
    def home(self) -> Path:
        return self.dir / "home"

    @property
    def log_file(self) -> Path:
        return self.dir / "server.log"

    @property
    def etc(self) -> Path:
        return self.run_dir / "etc"

    @property
    def server_dir(self) -> Path:
        return self.run_dir / "server"

    @property
    def server_socket(self) -> Path:
        return self.server_dir / "jupyter.sock"

    @property
    def hub_socket(self) -> Path:
        return self.run_dir / "hub.sock"

    @property
    def portal_socket(self) -> Path:
        return self.run_dir / "portal.sock"

    @property
    def release(self) -> Path:
        return self.run_dir / "release"

    @property
    def account(self) -> str:
        """The system account of this workspace (unique to the grant and the workspace root)."""
        return account_name(self.grant_id, str(self.dir.parent))

    @property
    def cgroup_name(self) -> str:
        return self.account

    def create(self, uid: int, gid: int) -> None:
        """Create the directories with their owners and modes (idempotent)."""
        for root in (self.dir.parent, self.run_dir.parent):
            make_traversable(root)
        for d in (self.dir, self.run_dir):
            d.mkdir(mode=0o711, exist_ok=True)
            os.chmod(d, 0o711)
        self.server_dir.mkdir(mode=0o700, exist_ok=True)
        os.chown(self.server_dir, uid, gid)
        os.chmod(self.server_dir, 0o700)
        if self.server_socket.exists() or self.server_socket.is_symlink():
            self.server_socket.unlink()
        self.release.mkdir(mode=0o700, exist_ok=True)  # a mount point; its mount is what counts
