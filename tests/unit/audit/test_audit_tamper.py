"""Any later change to the log is detected by verification with the public key alone."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from unit.audit.audit_helpers import (
    append_checkpoint_record,
    event,
    read_entries,
    sign_with_log_key,
    write_entries,
)

from audit import AuditLog, verify_directory
from audit.checkpoint import Checkpoint
from audit.exceptions import IntegrityError, VerificationError
from audit.hasher import hash_leaf
from audit.keys import generate_signer
from audit.store import ENTRIES_MAGIC, encode_record
from audit.tree import MerkleTree


@pytest.fixture
def signed_log(log_dir: Path) -> Path:
    """A log of 12 entries: checkpoints at 8 and 12."""
    log = AuditLog.open(log_dir, origin="test.pds/audit")
    log.append_many([event(i) for i in range(8)])
    log.checkpoint()
    log.append_many([event(i) for i in range(8, 12)])
    log.close()
    assert verify_directory(log_dir).signed_size == 12
    return log_dir


def _flip_byte_fixing_checksum(entries: list[bytes]) -> list[bytes]:
    entries[5] = entries[5].replace(b"user5", b"user6")
    return entries


def _swap(entries: list[bytes]) -> list[bytes]:
    entries[2], entries[3] = entries[3], entries[2]
    return entries


def _insert(entries: list[bytes]) -> list[bytes]:
    return [*entries[:4], event(99).canonical_json(), *entries[4:11]]


def _delete_middle(entries: list[bytes]) -> list[bytes]:
    return [*entries[:3], *entries[4:], event(100).canonical_json()]


def _delete(entries: list[bytes]) -> list[bytes]:
    return entries[:7] + entries[8:]


def _truncate(entries: list[bytes]) -> list[bytes]:
    return entries[:10]


EDITS: dict[str, tuple[Callable[[list[bytes]], list[bytes]], str]] = {
    "flipped byte (checksum fixed)": (_flip_byte_fixing_checksum, "does not match checkpoint"),
    "reordered events": (_swap, "does not match checkpoint"),
    "inserted event": (_insert, "does not match checkpoint"),
    "deleted event, padded back": (_delete_middle, "does not match checkpoint"),
    "deleted event": (_delete, "does not match checkpoint #1"),
    "truncated log": (_truncate, "entries were deleted"),
}


@pytest.mark.parametrize("name", EDITS)
def test_edited_entries_are_detected(signed_log: Path, name: str) -> None:
    edit, message = EDITS[name]
    write_entries(signed_log, edit(read_entries(signed_log)))
    with pytest.raises(VerificationError, match=message):
        verify_directory(signed_log)
    with pytest.raises(IntegrityError):
        AuditLog.open(signed_log, origin="test.pds/audit")


def test_a_flipped_byte_is_caught_by_the_record_checksum(signed_log: Path) -> None:
    path = signed_log / "entries.log"
    data = bytearray(path.read_bytes())
    data[len(ENTRIES_MAGIC) + 40] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(VerificationError, match="damaged"):
        verify_directory(signed_log)
    with pytest.raises(IntegrityError, match="damaged or truncated"):
        AuditLog.open(signed_log, origin="test.pds/audit")
    assert path.read_bytes() == bytes(data)  # an alarm, not a repair


def test_a_log_truncated_mid_record_below_the_checkpoint_is_an_alarm(signed_log: Path) -> None:
    path = signed_log / "entries.log"
    data = path.read_bytes()[:-30]
    path.write_bytes(data)
    with pytest.raises(IntegrityError, match="checkpoint of size 12 is signed"):
        AuditLog.open(signed_log, origin="test.pds/audit")
    assert path.read_bytes() == data
    assert not (signed_log / "recovered").exists()


def test_a_checkpoint_signed_by_another_key_is_detected(signed_log: Path) -> None:
    tree = MerkleTree(hash_leaf(e) for e in read_entries(signed_log))
    impostor = generate_signer("test.pds/audit")
    note = Checkpoint("test.pds/audit", 12, tree.root()).sign([impostor])
    append_checkpoint_record(signed_log, note)
    with pytest.raises(VerificationError, match="not signed by the trusted key"):
        verify_directory(signed_log)


def test_a_forked_checkpoint_is_detected(signed_log: Path) -> None:
    forked = read_entries(signed_log)
    forked[9] = event(999).canonical_json()
    fork_root = MerkleTree(hash_leaf(e) for e in forked).root()
    append_checkpoint_record(
        signed_log,
        sign_with_log_key(signed_log, Checkpoint("test.pds/audit", 12, fork_root).body()),
    )
    with pytest.raises(VerificationError, match="does not match checkpoint #3"):
        verify_directory(signed_log)
    with pytest.raises(IntegrityError):
        AuditLog.open(signed_log, origin="test.pds/audit")


def test_a_rewritten_history_re_signed_with_the_key_still_contradicts_old_checkpoints(
    signed_log: Path,
) -> None:
    forked = read_entries(signed_log)
    forked[1] = event(555).canonical_json()
    write_entries(signed_log, forked)
    root = MerkleTree(hash_leaf(e) for e in forked).root()
    append_checkpoint_record(
        signed_log, sign_with_log_key(signed_log, Checkpoint("test.pds/audit", 12, root).body())
    )
    with pytest.raises(VerificationError, match="does not match checkpoint #1"):
        verify_directory(signed_log)


def test_a_rolled_back_checkpoint_is_detected(signed_log: Path) -> None:
    tree = MerkleTree(hash_leaf(e) for e in read_entries(signed_log))
    body = Checkpoint("test.pds/audit", 9, tree.root(9)).body()
    append_checkpoint_record(signed_log, sign_with_log_key(signed_log, body))
    with pytest.raises(VerificationError, match="rolled back"):
        verify_directory(signed_log)


def test_verification_with_an_unrelated_key_fails(signed_log: Path, tmp_path: Path) -> None:
    other = AuditLog.open(tmp_path / "other", origin="test.pds/audit")
    with pytest.raises(VerificationError, match="not signed by the trusted key"):
        verify_directory(signed_log, other.vkey())
    other.close()


def test_a_torn_tail_above_the_checkpoint_is_cut_and_recorded(log_dir: Path) -> None:
    log = AuditLog.open(log_dir, origin="test.pds/audit", checkpoint_seconds=3600)
    log.append_many([event(i) for i in range(5)])
    log.checkpoint()
    acknowledged = [event(i) for i in range(5, 9)]
    log.append_many(acknowledged)  # durable, not yet covered by a checkpoint
    torn = encode_record(event(9).canonical_json())[:-7]
    with open(log_dir / "entries.log", "ab") as f:
        f.write(torn)  # the crash: half a record
    log._files.close()  # drop the process state without signing

    reopened = AuditLog.open(log_dir, origin="test.pds/audit")
    events = [e for _, e in reopened.entries()]
    assert events[5:9] == acknowledged
    assert events[9].type == "audit.tail_recovered"
    saved = list((log_dir / "recovered").iterdir())
    assert [p.read_bytes() for p in saved] == [torn]
    reopened.close()
    assert verify_directory(log_dir).size == 10


def test_parallel_verification_agrees_and_catches_the_same_edits(
    log_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import audit.logcheck

    monkeypatch.setattr(audit.logcheck, "BLOCK", 8)
    log = AuditLog.open(log_dir, origin="test.pds/audit")
    log.append_many([event(i) for i in range(30)])
    log.rotate_key("admin")  # entry 30, inside the fourth block
    log.append_many([event(i) for i in range(31, 45)])
    log.close()
    report = verify_directory(log_dir, workers=2)
    assert (report.workers, report.size, report.key_rotations) == (2, 45, 1)
    serial = verify_directory(log_dir, workers=1)
    assert (serial.size, serial.signed_size, serial.workers) == (45, 45, 1)

    entries = read_entries(log_dir)
    entries[12], entries[13] = entries[13], entries[12]
    write_entries(log_dir, entries)
    with pytest.raises(VerificationError, match="does not match checkpoint"):
        verify_directory(log_dir, workers=2)


def test_a_zero_filled_tail_is_torn_not_empty_entries(log_dir: Path) -> None:
    log = AuditLog.open(log_dir, origin="test.pds/audit")
    log.append_many([event(i) for i in range(3)])
    log.close()
    with open(log_dir / "entries.log", "ab") as f:
        f.write(bytes(4096))  # what a file system may leave after a power loss
    with pytest.raises(VerificationError, match="damaged"):
        verify_directory(log_dir)
    reopened = AuditLog.open(log_dir, origin="test.pds/audit")
    assert [e.type for _, e in reopened.entries()][3:] == ["audit.tail_recovered"]
    reopened.close()
    assert verify_directory(log_dir).size == 4


def test_a_torn_tail_left_by_another_process_is_cut_by_the_next_writer(log_dir: Path) -> None:
    first = AuditLog.open(log_dir, origin="test.pds/audit", checkpoint_seconds=3600)
    second = AuditLog.open(log_dir, origin="test.pds/audit", checkpoint_seconds=3600)
    first.append(event(0))
    with open(log_dir / "entries.log", "ab") as f:
        f.write(encode_record(event(1).canonical_json())[:20])  # the first process died
    assert second.size == 1  # a reader leaves the tail alone
    assert second.append(event(2)) == 2
    types = [e.type for _, e in first.entries()]
    assert types == ["dataset.downloaded", "audit.tail_recovered", "dataset.downloaded"]
    first.close()
    second.close()
    assert verify_directory(log_dir).size == 3


def test_an_entry_changed_under_a_running_log_is_not_shown(signed_log: Path) -> None:
    log = AuditLog.open(signed_log, origin="test.pds/audit")
    entries = read_entries(signed_log)
    entries[4] = entries[4].replace(b"user4", b"user5")
    write_entries(signed_log, entries)  # same size: the running log does not notice on its own
    with pytest.raises(IntegrityError, match="entry 4 changed on disk"):
        list(log.entries())
    with pytest.raises(IntegrityError, match="entry 4 changed on disk"):
        log.evidence(4)
    log._files.close()
