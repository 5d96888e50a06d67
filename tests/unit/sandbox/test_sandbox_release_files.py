"""A release is mounted only when the workspace account can read all of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.exceptions import IsolationError
from sandbox.spawner import release_files


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


def test_readable_release_lists_its_files(tmp_path: Path) -> None:
    assert release_files(make_release(tmp_path)) == ["a.parquet", "sub/b.csv"]


@pytest.mark.parametrize(("path", "mode"), [("a.parquet", 0o600), ("sub", 0o700), (".", 0o750)])
def test_private_files_refuse_the_mount(tmp_path: Path, path: str, mode: int) -> None:
    release = make_release(tmp_path)
    (release / path).chmod(mode)
    with pytest.raises(IsolationError, match="readable by others"):
        release_files(release)


def test_missing_release_is_refused(tmp_path: Path) -> None:
    with pytest.raises(IsolationError, match="does not exist"):
        release_files(tmp_path / "none")
