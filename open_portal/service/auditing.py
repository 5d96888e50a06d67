"""The one way the service layer records what happened."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from audit import AuditEvent
from open_portal.service.context import Portal


def record(
    portal: Portal,
    type: str,
    *,
    actor: str,
    subject: str | None = None,
    object: str | None = None,
    **details: Any,
) -> int:
    """Append an event to the signed audit log; returns its index once it is durable."""
    event = AuditEvent(
        type=type,
        actor=actor or "anonymous",
        subject=subject,
        object=object,
        details=details,
        time=portal.clock(),
    )
    return portal.audit.append(event)


def event_view(event: AuditEvent) -> dict[str, Any]:
    """The event as plain JSON (details thawed from their read-only form)."""
    return event.to_dict()


def search(
    portal: Portal,
    *,
    actor: str = "",
    type_prefix: str = "",
    dataset: str = "",
    grant: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 200,
) -> list[tuple[int, AuditEvent]]:
    """Newest first, filtered by actor, type prefix, dataset, grant and time."""
    found: list[tuple[int, AuditEvent]] = []
    for index, event in portal.audit.entries():
        if actor and event.actor != actor:
            continue
        if type_prefix and not event.type.startswith(type_prefix):
            continue
        if grant and f"grant:{grant}" not in (event.subject, event.object):
            continue
        if dataset and not _mentions_dataset(event, dataset):
            continue
        if since and event.time < since:
            continue
        if until and event.time > until:
            continue
        found.append((index, event))
    found.reverse()
    return found[:limit]


def _mentions_dataset(event: AuditEvent, dataset: str) -> bool:
    tag = f"dataset:{dataset}"
    if tag in (event.subject, event.object):
        return True
    listed = event.details.get("datasets")
    return isinstance(listed, (list, dict)) and dataset in listed


def grant_evidence(portal: Portal, grant_id: str) -> dict[str, Any]:
    """An evidence bundle: each event of the grant with its inclusion proof and one checkpoint."""
    indices = [i for i, e in portal.audit.entries() if f"grant:{grant_id}" in (e.subject, e.object)]
    checkpoint = portal.audit.checkpoint()
    return {
        "grant": grant_id,
        "vkey": portal.audit.vkey(),
        "checkpoint": checkpoint,
        "entries": [portal.audit.evidence(i) for i in indices],
    }
