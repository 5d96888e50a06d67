"""Rollback and fork detection: checkpoints kept outside the log, a pinned key, the state file."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from unit.audit.audit_helpers import read_entries, write_entries

from audit import AuditEvent, AuditLog, verify_directory
from audit.checkpoint import verify_checkpoint
from audit.exceptions import VerificationError

PDS = str(Path(sys.executable).parent / "pds")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "var"


@pytest.fixture
def officer(tmp_path: Path) -> Path:
    """The officer's own directory, outside the platform: held checkpoints, key, state."""
    path = tmp_path / "officer"
    path.mkdir()
    return path


def pds(
    data_dir: Path, officer: Path, *args: str, ok: bool = True
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PDS_DATA_DIR": str(data_dir), "XDG_STATE_HOME": str(officer / "state")}
    env.pop("PDS_AUDIT_STATE_FILE", None)
    done = subprocess.run([PDS, "audit", *args], env=env, capture_output=True, text=True)
    if ok:
        assert done.returncode == 0, done.stderr
    else:
        assert done.returncode != 0, done.stdout
        assert done.stderr.count("\n") == 1, done.stderr
    return done


def _append(data_dir: Path, count: int, start: int = 0) -> None:
    with AuditLog.open(data_dir / "audit", origin="pds.local/audit") as log:
        for i in range(start, start + count):
            log.append_many([_event(i)])


def _event(i: int) -> AuditEvent:
    return AuditEvent(type="dataset.downloaded", actor=f"user{i}", subject=f"grant:{i}")


def _resign(data_dir: Path, *, new_key: bool) -> None:
    """Throw the checkpoints (and perhaps the keys) away and let the log sign its entries anew."""
    audit = data_dir / "audit"
    (audit / "checkpoints.log").unlink()
    if new_key:
        shutil.rmtree(audit / "keys")
    AuditLog.open(audit, origin="pds.local/audit").close()


def test_a_log_cut_back_to_an_older_checkpoint_is_refused(data_dir: Path, officer: Path) -> None:
    _append(data_dir, 3)
    snapshot = officer / "snapshot"
    shutil.copytree(data_dir / "audit", snapshot)
    _append(data_dir, 2, start=3)
    held = officer / "checkpoint-5"
    held.write_text(pds(data_dir, officer, "checkpoint").stdout)
    assert "extends 1 checkpoints" in pds(data_dir, officer, "verify", "--since", str(held)).stdout

    shutil.rmtree(data_dir / "audit")
    shutil.copytree(snapshot, data_dir / "audit")  # a consistent, older log: intact on its own
    assert pds(data_dir, officer, "verify", "--no-state").stdout.startswith("intact: 3 entries")
    bad = pds(data_dir, officer, "verify", "--no-state", "--since", str(held), ok=False)
    assert bad.returncode == 1
    assert "rolled back" in bad.stderr and "size 3" in bad.stderr and "size 5" in bad.stderr


def test_the_state_file_refuses_a_smaller_tree_next_time(data_dir: Path, officer: Path) -> None:
    _append(data_dir, 4)
    snapshot = officer / "snapshot"
    shutil.copytree(data_dir / "audit", snapshot)
    _append(data_dir, 3, start=4)
    state = officer / "state" / "pds" / "audit" / "pds.local_audit.checkpoint"
    assert not state.exists()
    pds(data_dir, officer, "verify")
    vkey = (data_dir / "audit" / "keys" / "vkey").read_text().strip()
    assert verify_checkpoint(state.read_text(), vkey).size == 7
    assert state.stat().st_mode & 0o077 == 0
    kept = state.read_text()

    shutil.rmtree(data_dir / "audit")
    shutil.copytree(snapshot, data_dir / "audit")
    bad = pds(data_dir, officer, "verify", ok=False)
    assert bad.returncode == 1 and "rolled back" in bad.stderr
    assert state.read_text() == kept, "a refused log never replaces the state"

    elsewhere = officer / "other-state"
    out = pds(data_dir, officer, "verify", "--state", str(elsewhere)).stdout
    assert out.startswith("intact: 4 entries")  # a fresh state knows nothing yet
    env_state = officer / "env-state"
    env_state.write_text(kept)
    env = {**os.environ, "PDS_DATA_DIR": str(data_dir), "PDS_AUDIT_STATE_FILE": str(env_state)}
    done = subprocess.run([PDS, "audit", "verify"], env=env, capture_output=True, text=True)
    assert done.returncode == 1 and "rolled back" in done.stderr


def test_a_state_file_grows_with_the_log(data_dir: Path, officer: Path) -> None:
    state = officer / "cp"
    for round_ in range(3):
        _append(data_dir, 2, start=2 * round_)
        out = pds(data_dir, officer, "verify", "--state", str(state)).stdout
        assert out.startswith(f"intact: {2 * round_ + 2} entries")
    assert "extends 1 checkpoints" in out


def test_a_rewritten_entry_resigned_with_another_key_is_caught_by_the_pinned_key(
    data_dir: Path, officer: Path
) -> None:
    _append(data_dir, 6)
    key_file = officer / "vkey"
    key_file.write_text(pds(data_dir, officer, "vkey").stdout)
    held = officer / "checkpoint-6"
    held.write_text(pds(data_dir, officer, "checkpoint").stdout)

    entries = read_entries(data_dir / "audit")
    entries[2] = entries[2].replace(b"user2", b"userX")
    write_entries(data_dir / "audit", entries)
    _resign(data_dir, new_key=True)

    # the forged log is intact against the key lying next to it ...
    assert pds(data_dir, officer, "verify", "--no-state").stdout.startswith("intact: 6")
    # ... but not against the key the officer pinned, nor against the checkpoint held
    bad = pds(data_dir, officer, "verify", "--no-state", "--key", str(key_file), ok=False)
    assert bad.returncode == 1 and "not signed by the trusted key" in bad.stderr
    vkey = key_file.read_text().strip()
    bad = pds(data_dir, officer, "verify", "--no-state", "--vkey", vkey, ok=False)
    assert bad.returncode == 1
    bad = pds(data_dir, officer, "verify", "--no-state", "--since", str(held), ok=False)
    assert bad.returncode == 1 and "not signed by this log's key" in bad.stderr


def test_a_fork_signed_with_the_same_key_is_not_a_consistent_extension(
    data_dir: Path, officer: Path
) -> None:
    _append(data_dir, 5)
    pds(data_dir, officer, "verify")  # the state now holds size 5
    held = officer / "checkpoint-5"
    held.write_text(pds(data_dir, officer, "checkpoint").stdout)

    entries = read_entries(data_dir / "audit")
    entries[1] = entries[1].replace(b"user1", b"userY")
    write_entries(data_dir / "audit", entries)
    _resign(data_dir, new_key=False)  # a rogue holder of the signing key
    _append(data_dir, 2, start=5)

    key = officer / "vkey"
    key.write_text((data_dir / "audit" / "keys" / "vkey").read_text())
    assert pds(data_dir, officer, "verify", "--no-state", "--key", str(key)).returncode == 0
    for args in (["--no-state", "--since", str(held)], []):
        bad = pds(data_dir, officer, "verify", *args, ok=False)
        assert bad.returncode == 1 and "not a consistent extension" in bad.stderr

    # the same check, through the library, for a fork of equal size
    with pytest.raises(VerificationError, match="consistent extension"):
        verify_directory(data_dir / "audit", since=[held.read_text()])


def test_verify_command_line_errors_are_one_line(data_dir: Path, officer: Path) -> None:
    _append(data_dir, 1)
    inside = data_dir / "verify-state"
    bad = pds(data_dir, officer, "verify", "--state", str(inside), ok=False)
    assert bad.returncode == 2 and "must be outside" in bad.stderr
    bad = pds(data_dir, officer, "verify", "--since", str(officer / "missing"), ok=False)
    assert bad.returncode == 2
    garbage = officer / "garbage"
    garbage.write_text("not a checkpoint\n")
    bad = pds(data_dir, officer, "verify", "--no-state", "--since", str(garbage), ok=False)
    assert bad.returncode == 1 and "held outside the log" in bad.stderr
    bad = pds(data_dir, officer, "verify", "--vkey", "nonsense", ok=False)
    assert bad.returncode == 2
    bad = pds(officer / "nowhere", officer, "verify", ok=False)
    assert bad.returncode == 2 and "no audit log" in bad.stderr
