"""Fixtures of the audit tests: a fresh log directory and an open log in it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from audit import AuditLog


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    return tmp_path / "audit"


@pytest.fixture
def log(log_dir: Path) -> Iterator[AuditLog]:
    audit_log = AuditLog.open(log_dir, origin="test.pds/audit")
    yield audit_log
    audit_log.close()
