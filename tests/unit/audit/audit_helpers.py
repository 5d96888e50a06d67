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
