"""Audit events of workspaces: the one place the sandbox writes to the audit log."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from sandbox.config import get_settings

log = logging.getLogger(__name__)

STARTED = "workspace.started"
STOPPED = "workspace.stopped"
DATA_MOUNTED = "workspace.data_mounted"
DESTROYED = "workspace.destroyed"


def record(
    event_type: str, *, actor: str, grant_id: str, obj: str = "", details: dict[str, Any]
) -> int | None:
    """Append one workspace event to the audit log; returns its index when the log gives one.

    Uses ``audit.AuditLog`` when the package provides it; until then the event goes to a
    JSON-lines file beside where the log will be, so nothing is lost.
    """
    directory = get_settings().audit_dir
    subject = f"grant:{grant_id}"
    try:
        from audit import AuditEvent, AuditLog
    except ImportError:
        _append_jsonl(directory, event_type, actor, subject, obj, details)
        return None
    log_ = AuditLog.open(directory)
    event = AuditEvent(type=event_type, actor=actor, subject=subject, object=obj, details=details)
    return int(log_.append(event))


def _append_jsonl(
    directory: Path, event_type: str, actor: str, subject: str, obj: str, details: dict[str, Any]
) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    line = json.dumps(
        {
            "time": time.time(),
            "type": event_type,
            "actor": actor,
            "subject": subject,
            "object": obj,
            "details": details,
        },
        ensure_ascii=False,
        sort_keys=True,
    )
    fd = os.open(directory / "sandbox-events.jsonl", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)
    log.info("audit %s %s", event_type, subject)
