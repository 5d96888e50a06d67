"""A release is opened to its workspace's group only, and nothing but files and folders mount."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from sandbox.exceptions import IsolationError
from sandbox.spawner import share_release

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="changing owners needs root")
GID = 4242


def make_release(tmp_path: Path) -> Path:
    release = tmp_path / "release"
    (release / "sub").mkdir(parents=True)
    (release / "a.parquet").write_bytes(b"x")
    (release / "sub" / "b.csv").write_text("b\n")
    for p in (release, release / "sub"):
        p.chmod(0o755)
    for p in (release / "a.parquet", release / "sub" / "b.csv"):
        p.chmod(0o644)
    return release


@needs_root
def test_every_entry_becomes_group_readable_and_closed_to_others(tmp_path: Path) -> None:
    release = make_release(tmp_path)
    (release / "sub" / "b.csv").chmod(0o600)  # as written under the platform's umask
    assert share_release(release, GID) == ["a.parquet", "sub/b.csv"]
    entries = [release, *release.rglob("*")]
    assert len(entries) == 4
    for path in entries:
        st = path.lstat()
        want = 0o750 if stat.S_ISDIR(st.st_mode) else 0o640
        assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (0, GID, want), path


@needs_root
@pytest.mark.parametrize("kind", ["symlink", "fifo"])
def test_links_and_special_files_refuse_the_mount(tmp_path: Path, kind: str) -> None:
    release = make_release(tmp_path)
    if kind == "symlink":
        (release / "sub" / "link").symlink_to("/etc/shadow")
    else:
        os.mkfifo(release / "sub" / "pipe")
    with pytest.raises(IsolationError, match="is not a file"):
        share_release(release, GID)
    assert Path("/etc/shadow").stat().st_gid != GID


def test_missing_release_is_refused(tmp_path: Path) -> None:
    with pytest.raises(IsolationError, match="does not exist"):
        share_release(tmp_path / "none", GID)
