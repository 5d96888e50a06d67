"""Audit events of workspaces: the one place the sandbox writes to the audit log."""

from __future__ import annotations

import atexit
import threading
from pathlib import Path
from typing import Any

from audit import AuditEvent, AuditLog
from sandbox.config import get_settings

STARTED = "workspace.started"
STOPPED = "workspace.stopped"
DATA_MOUNTED = "workspace.data_mounted"
DESTROYED = "workspace.destroyed"

_logs: dict[Path, AuditLog] = {}
_lock = threading.Lock()


def _log(directory: Path) -> AuditLog:
    with _lock:
        log = _logs.get(directory)
        if log is None:
            log = _logs[directory] = AuditLog.open(directory)
        return log


def record(
    event_type: str, *, actor: str, grant_id: str, obj: str = "", details: dict[str, Any]
) -> int:
    """Append one workspace event (subject ``grant:<id>``) to ``$PDS_DATA_DIR/audit``."""
    event = AuditEvent(
        type=event_type, actor=actor, subject=f"grant:{grant_id}", object=obj, details=details
    )
    return _log(get_settings().audit_dir.resolve()).append(event)


@atexit.register
def close() -> None:
    """Close the logs this process opened (signs a checkpoint if they grew)."""
    with _lock:
        for log in _logs.values():
            log.close()
        _logs.clear()
