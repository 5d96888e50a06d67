"""The per-member layout of a grant's volume, made as root without following any link."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from sandbox import members

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="changing owners needs root")
UID, GID = 4343, 4343


def owner_mode(path: Path) -> tuple[int, int, int]:
    st = os.lstat(path)
    return st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)


def test_a_fresh_volume_gets_a_home_per_member_and_two_shared_folders(tmp_path: Path) -> None:
    volume = tmp_path / "home"
    volume.mkdir()
    alice = members.prepare(volume, "alice", UID, GID)
    bob = members.prepare(volume, "bob", UID, GID)
    assert alice.home != bob.home and alice.project == bob.project and alice.outbox == bob.outbox
    assert alice.home.parent == bob.home.parent == volume / "members"
    assert owner_mode(volume) == (0, 0, 0o711)
    assert owner_mode(volume / "members") == (0, 0, 0o711)
    for path in (alice.home, bob.home, alice.project, alice.outbox):
        assert owner_mode(path) == (UID, GID, 0o700), path
    assert sorted(os.listdir(volume)) == ["members", "outbox", "project"]
    assert alice.shared() == ((volume / "project", "project"), (volume / "outbox", "outbox"))
    assert members.prepare(volume, "alice", UID, GID) == alice  # idempotent


@pytest.mark.parametrize("user", ["alice", "Alice", "a/../b", "张三", "", "x" * 200])
def test_member_keys_are_plain_names_unique_per_user(user: str) -> None:
    key = members.member_key(user)
    assert "/" not in key and key not in {".", ".."} and len(key) <= 40
    assert key != members.member_key(user + "_")


def test_a_home_from_before_is_split_into_data_and_kept_configuration(tmp_path: Path) -> None:
    volume = tmp_path / "home"
    startup = volume / ".ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-plant.py").write_text("open('/tmp/planted', 'w')\n")
    (volume / ".bashrc").write_text("touch /tmp/planted\n")
    (volume / "analysis.ipynb").write_text("{}")
    (volume / "outbox").mkdir()
    (volume / "outbox" / "table.csv").write_text("a\n1\n")
    target = tmp_path / "elsewhere"  # a link named like a shared folder must not be followed
    target.mkdir(mode=0o755)
    (volume / "project").symlink_to(target)
    (volume / "members").write_text("not a directory")
    alice = members.prepare(volume, "alice", UID, GID)
    assert owner_mode(target) == (0, 0, 0o755)
    assert sorted(os.listdir(volume)) == [".legacy", "members", "outbox", "project"]
    assert owner_mode(volume / ".legacy") == (0, 0, 0o700)
    assert sorted(os.listdir(volume / ".legacy")) == [".bashrc", ".ipython", "members", "project"]
    assert os.listdir(alice.project) == ["analysis.ipynb"]
    assert os.listdir(alice.outbox) == ["table.csv"]
    assert os.listdir(alice.home) == []


def test_a_link_or_file_where_a_shared_folder_is_mounted_is_moved_aside(tmp_path: Path) -> None:
    volume = tmp_path / "home"
    volume.mkdir()
    home = members.prepare(volume, "alice", UID, GID).home
    (home / "project").symlink_to("/etc")
    (home / "outbox").write_text("x")
    members.prepare(volume, "alice", UID, GID)
    assert sorted(os.listdir(home)) == ["outbox.moved", "project.moved"]
    assert os.path.islink(home / "project.moved")
