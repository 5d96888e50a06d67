"""Helpers of the audit tests: sample events and direct edits of a log's files."""

from __future__ import annotations

from pathlib import Path

from audit import AuditEvent
from audit.store import ENTRIES_MAGIC, RecordFile, encode_record


def event(n: int, type: str = "dataset.downloaded") -> AuditEvent:
    return AuditEvent(type=type, actor=f"user{n % 7}", subject=f"grant:{n}", details={"n": n})


def read_entries(directory: Path) -> list[bytes]:
    return [p for _, p in RecordFile(directory / "entries.log", ENTRIES_MAGIC).scan()]


def write_entries(directory: Path, payloads: list[bytes]) -> None:
    data = ENTRIES_MAGIC + b"".join(encode_record(p) for p in payloads)
    (directory / "entries.log").write_bytes(data)


def sign_with_log_key(directory: Path, body: str) -> str:
    """Sign ``body`` with the log's own private key, as a rogue key holder could."""
    from audit.checkpoint import sign_note
    from audit.keys import decode_private_key

    signer = decode_private_key((directory / "keys" / "signing.key").read_text())
    return sign_note(body, [signer])


def append_checkpoint_record(directory: Path, note: str) -> None:
    with open(directory / "checkpoints.log", "ab") as f:
        f.write(encode_record(note.encode()))
