"""The audit timeline page for security officers, and audit events as the API returns them."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from audit import AuditEvent
from open_portal.service import auditing
from open_portal.service.context import Portal
from open_portal.web import render


class AuditEventOut(BaseModel):
    """One event of the log with its index (its position, for an inclusion proof)."""

    index: int
    actor: str
    details: dict[str, Any]
    object: str | None
    subject: str | None
    time: str  # RFC 3339 UTC with microseconds
    type: str


def events_out(events: list[tuple[int, AuditEvent]]) -> list[AuditEventOut]:
    return [AuditEventOut(index=i, **auditing.event_view(e)) for i, e in events]


def timeline_page(
    request: Request, portal: Portal, page: auditing.TimelinePage, filters: object
) -> HTMLResponse:
    """One page of the timeline; ``filters`` are the page's filters as parsed (their values
    and ``query(**changes)`` for the links)."""
    types, actors = auditing.known_values(portal)
    return render(
        request,
        "audit.html",
        page=page,
        checkpoint=portal.audit.checkpoint(),
        vkey=portal.audit.vkey(),
        filters=filters,
        types=types,
        actors=actors,
        details=shown_details,
    )


def shown_details(event: AuditEvent) -> list[tuple[str, str]]:
    """The event's details as readable text: strings as they are, the rest as JSON with
    every character as itself (no ``\\u`` escapes)."""
    view = auditing.event_view(event)["details"]
    return [
        (key, value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
        for key, value in view.items()
    ]
