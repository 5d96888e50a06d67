"""The log on disk: appends, group commit, readers in other processes, evidence, key rotation."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from unit.audit.audit_helpers import event

from audit import AuditEvent, AuditLog, verify_directory, verify_evidence
from audit.events import GRANT_DESTROYED, KEY_ROTATED
from audit.exceptions import Error, KeyFileError, NotFound, VerificationError


def test_open_creates_keys_and_signs_an_empty_checkpoint(log: AuditLog, log_dir: Path) -> None:
    key = log_dir / "keys" / "signing.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert (log_dir / "keys" / "vkey").read_text().strip() == log.vkey()
    assert (log_dir / "keys" / "public.pem").read_bytes().startswith(b"-----BEGIN PUBLIC KEY")
    assert log.vkey().startswith("test.pds/audit+")
    assert log.size == 0
    assert log.checkpoint().startswith("test.pds/audit\n0\n47DEQpj8")


def test_appends_return_indices_and_read_back(log: AuditLog) -> None:
    events = [event(i) for i in range(4)]
    first = log.append(events[0])
    more = log.append_many(events[1:])
    assert (first, more) == (0, [1, 2, 3])
    assert log.size == 4
    assert [e for _, e in log.entries(1, 3)] == events[1:3]
    assert [i for i, _ in log.entries()] == [0, 1, 2, 3]
    assert log.append_many([]) == []


def test_checkpoint_signs_only_when_the_tree_grew(log: AuditLog) -> None:
    log.append(event(0))
    first = log.checkpoint()
    assert log.checkpoint() == first
    log.append(event(1))
    second = log.checkpoint()
    assert second != first and second.split("\n")[1] == "2"
    assert [c.size for c in log.checkpoints] == [0, 1, 2]


def test_threads_share_fsyncs_and_lose_nothing(log: AuditLog) -> None:
    results: list[int] = []
    lock = threading.Lock()

    def work(t: int) -> None:
        for i in range(150):
            index = log.append(event(t * 1000 + i))
            with lock:
                results.append(index)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == list(range(1800))
    assert log.group_commits < 1800  # group commit: some appends shared a write and fsync
    by_index = {i: e for i, e in log.entries()}
    subjects = {e.subject for e in by_index.values()}
    assert len(subjects) == 1800
    log.close()
    assert verify_directory(log.directory).size == 1800


def test_other_processes_append_to_the_same_log(log: AuditLog, log_dir: Path) -> None:
    log.append(event(0))
    child = (
        "import sys\n"
        "from pathlib import Path\n"
        "from audit import AuditEvent, AuditLog\n"
        "log = AuditLog.open(Path(sys.argv[1]), origin='test.pds/audit')\n"
        "for i in range(200):\n"
        "    log.append(AuditEvent(type='workspace.started', actor=sys.argv[2], details={'i': i}))\n"
        "log.close()\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", child, str(log_dir), f"proc{p}"]) for p in range(3)
    ]
    for i in range(200):
        log.append(event(i + 1))
    for p in procs:
        assert p.wait(timeout=120) == 0
    assert log.size == 801  # this process sees what the others appended
    actors = [e.actor for _, e in log.entries()]
    for p in range(3):
        assert actors.count(f"proc{p}") == 200
    mine = [e.details["n"] for _, e in log.entries() if e.type == "dataset.downloaded"]
    assert mine == list(range(201))  # order within one process is kept
    log.checkpoint()
    report = verify_directory(log_dir)
    assert (report.size, report.signed_size) == (801, 801)


def test_evidence_verifies_offline_with_the_vkey_alone(log: AuditLog) -> None:
    log.append_many([event(i) for i in range(10)])
    destroyed = log.append(
        AuditEvent(
            type=GRANT_DESTROYED,
            actor="officer-wang",
            subject="grant:12",
            details={"method": "cryptographic erase", "files_sha256": ["ab" * 32]},
        )
    )
    log.append(event(11))
    bundle = json.loads(json.dumps(log.evidence(destroyed)))  # survives JSON
    assert set(bundle) >= {"vkey", "checkpoint", "leaf_index", "leaf_b64", "inclusion_proof"}
    got = verify_evidence(bundle, log.vkey())
    assert (got.type, got.subject, got.actor) == (GRANT_DESTROYED, "grant:12", "officer-wang")
    assert log.find_latest(GRANT_DESTROYED, "grant:12") == destroyed
    with pytest.raises(NotFound):
        log.find_latest(GRANT_DESTROYED, "grant:13")


def _tampered(bundle: dict, key: str, value: object) -> dict:
    return {**bundle, key: value}


def test_tampered_evidence_is_refused(log: AuditLog) -> None:
    log.append_many([event(i) for i in range(5)])
    bundle = log.evidence(3)
    other = log.evidence(2)
    entry = dict(bundle["entry"], actor="someone-else")
    forged_leaf = AuditEvent.from_dict(entry).canonical_json()
    import base64

    cases = [
        _tampered(bundle, "entry", entry),
        _tampered(bundle, "leaf_b64", base64.b64encode(forged_leaf).decode()),
        _tampered(
            _tampered(bundle, "leaf_b64", base64.b64encode(forged_leaf).decode()), "entry", entry
        ),
        _tampered(bundle, "leaf_index", 2),
        _tampered(bundle, "inclusion_proof", other["inclusion_proof"]),
        _tampered(bundle, "inclusion_proof", bundle["inclusion_proof"][:-1]),
        _tampered(bundle, "checkpoint", bundle["checkpoint"].replace("\n5\n", "\n6\n")),
        {k: v for k, v in bundle.items() if k != "inclusion_proof"},
    ]
    for case in cases:
        with pytest.raises(VerificationError):
            verify_evidence(case, log.vkey())
    stranger = AuditLog.open(log.directory.parent / "other", origin="test.pds/audit")
    with pytest.raises(VerificationError, match="not signed by the trusted key"):
        verify_evidence(bundle, stranger.vkey())
    stranger.close()


def test_key_rotation_is_an_entry_cosigned_by_both_keys(log: AuditLog, log_dir: Path) -> None:
    log.append_many([event(i) for i in range(3)])
    old_bundle = log.evidence(1)
    old_vkey = log.vkey()
    new_vkey = log.rotate_key("admin")
    assert new_vkey != old_vkey and log.vkey() == new_vkey
    assert (log_dir / "keys" / "vkey").read_text().strip() == new_vkey
    index, rotation = list(log.entries())[-1]
    assert rotation.type == KEY_ROTATED
    assert dict(rotation.details) == {"old_vkey": old_vkey, "new_vkey": new_vkey}
    cosigned = log.checkpoints[-1].note
    assert cosigned.count("\n— ") == 2 and cosigned.split("\n")[1] == str(index + 1)
    log.append(event(4))
    log.checkpoint()
    verify_evidence(old_bundle, old_vkey)  # evidence handed out before stays valid
    verify_evidence(log.evidence(1), new_vkey)  # and fresh evidence uses the new key
    with pytest.raises(VerificationError):
        verify_evidence(log.evidence(1), old_vkey)
    for trusted in (old_vkey, new_vkey):
        report = verify_directory(log_dir, trusted)
        assert (report.key_rotations, report.size) == (1, 5)
    log.rotate_key("admin")
    assert verify_directory(log_dir, old_vkey).key_rotations == 2


def test_a_signing_key_readable_by_others_is_refused(log_dir: Path) -> None:
    AuditLog.open(log_dir).close()
    os.chmod(log_dir / "keys" / "signing.key", 0o644)
    with pytest.raises(KeyFileError, match="readable by others"):
        AuditLog.open(log_dir)


def test_a_log_opened_with_another_origin_is_refused(log_dir: Path) -> None:
    AuditLog.open(log_dir, origin="a.example/audit").close()
    with pytest.raises(Error, match="origin"):
        AuditLog.open(log_dir, origin="b.example/audit")


def test_a_closed_log_refuses_appends(log: AuditLog) -> None:
    log.close()
    with pytest.raises(Error, match="closed"):
        log.append(event(0))


def test_entries_and_proofs_outside_the_log_are_not_found(log: AuditLog) -> None:
    log.append(event(0))
    with pytest.raises(NotFound):
        log.evidence(1)
    with pytest.raises(NotFound):
        log.checkpoint_at(7)
    with pytest.raises(NotFound):
        log.consistency_proof(0, 2)


def test_checkpoints_are_signed_periodically_as_configured(
    log_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PDS_AUDIT_CHECKPOINT_SECONDS", "0")
    log = AuditLog.open(log_dir)
    log.append(event(0))
    log.append(event(1))
    assert [c.size for c in log.checkpoints] == [0, 1, 2]
    log.close()


def test_a_failed_periodic_signature_does_not_fail_the_append(
    log_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log = AuditLog.open(log_dir, checkpoint_seconds=0)
    os.chmod(log_dir / "keys" / "signing.key", 0o640)
    assert log.append(event(0)) == 0  # durable even though it could not be signed
    assert "could not sign the periodic checkpoint" in caplog.text
    assert log.size == 1 and [c.size for c in log.checkpoints] == [0]
    with pytest.raises(KeyFileError):
        log.checkpoint()
    os.chmod(log_dir / "keys" / "signing.key", 0o600)
    log.close()
    assert verify_directory(log_dir).signed_size == 1


def test_a_rotation_cut_short_by_a_crash_changes_nothing(log_dir: Path) -> None:
    from audit.keys import new_signing_key

    log = AuditLog.open(log_dir, origin="test.pds/audit")
    log.append(event(0))
    old_vkey = log.vkey()
    # the first steps of rotate_key, then the process dies before the co-signed checkpoint
    new, private = new_signing_key("test.pds/audit")
    with log._files.locked(exclusive=True):
        log._files.write_next_signing_key(private)
        log._write(
            [
                AuditEvent(
                    type=KEY_ROTATED,
                    actor="admin",
                    details={"old_vkey": old_vkey, "new_vkey": new.verifier.vkey},
                ).canonical_json()
            ]
        )
    log._files.close()

    again = AuditLog.open(log_dir, origin="test.pds/audit")
    assert again.vkey() == old_vkey
    assert not (log_dir / "keys" / "signing.key.next").exists()
    again.append(event(2))
    again.close()
    report = verify_directory(log_dir, old_vkey)
    assert (report.size, report.key_rotations) == (3, 0)
    with pytest.raises(VerificationError, match="not signed by the trusted key"):
        verify_directory(log_dir, new.verifier.vkey)


def test_a_rotation_signed_but_not_promoted_is_finished_by_any_process(log_dir: Path) -> None:
    from audit.keys import new_signing_key

    rotating = AuditLog.open(log_dir, origin="test.pds/audit")
    other = AuditLog.open(log_dir, origin="test.pds/audit")  # another process, already open
    rotating.append(event(0))
    old_vkey = rotating.vkey()
    new, private = new_signing_key("test.pds/audit")
    with rotating._files.locked(exclusive=True):  # rotate_key up to the co-signed checkpoint
        rotating._catch_up(exclusive=True)
        rotating._files.write_next_signing_key(private)
        details = {"old_vkey": old_vkey, "new_vkey": new.verifier.vkey}
        rotating._write([AuditEvent(type=KEY_ROTATED, actor="a", details=details).canonical_json()])
        rotating._sign_locked(extra=[new])
    rotating._files.close()  # ... and dies before replacing the key files

    other.append(event(2))
    note = other.checkpoint()
    assert other.vkey() == new.verifier.vkey
    assert verify_evidence(other.evidence(2), new.verifier.vkey).details["n"] == 2
    assert note.count("\n— ") == 1
    other.close()
    for key in (old_vkey, new.verifier.vkey):
        assert verify_directory(log_dir, key).key_rotations == 1


def test_the_log_refuses_to_sign_a_checkpoint_that_does_not_extend_the_last(
    log: AuditLog, log_dir: Path
) -> None:
    import dataclasses

    from audit.exceptions import ForkError

    log.append_many([event(i) for i in range(4)])
    log.checkpoint()
    log.append(event(4))
    # as if the history this process holds and the last signed checkpoint had diverged
    signed = log._checkpoints[-1]
    log._checkpoints[-1] = dataclasses.replace(signed, root=bytes(32))
    before = (log_dir / "checkpoints.log").read_bytes()
    with pytest.raises(ForkError, match="refusing to sign a checkpoint of size 5"):
        log.checkpoint()
    assert (log_dir / "checkpoints.log").read_bytes() == before
    log._checkpoints[-1] = signed
