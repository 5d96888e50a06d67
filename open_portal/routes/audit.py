"""Audit pages for security officers: timeline with filters, checkpoint, verifier key, evidence."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse

from audit import AuditEvent
from open_portal.auth import Identity
from open_portal.exceptions import InvalidInput
from open_portal.params import GrantId
from open_portal.schemas import NAME_MAX
from open_portal.service import auditing
from open_portal.service.context import Portal
from open_portal.web import Guard, PortalDep, render

router = APIRouter()
AuditorDep = Annotated[Identity, Depends(Guard("read", "audit"))]
PublicDep = Annotated[Identity, Depends(Guard("read", "home", login=False))]


def _time(value: str, name: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"{name} must be an ISO date or time", zh=f"{name} 须为 ISO 日期或时间"
        ) from None
    if parsed.tzinfo is None:
        from datetime import UTC

        parsed = parsed.replace(tzinfo=UTC)
    return parsed


@dataclass
class EventFilter:
    """The timeline's filters, from the query string."""

    actor: Annotated[str, Query(max_length=NAME_MAX)] = ""
    type: Annotated[str, Query(max_length=NAME_MAX)] = ""
    dataset: Annotated[str, Query(max_length=NAME_MAX)] = ""
    grant: Annotated[str, Query(max_length=NAME_MAX)] = ""
    since: Annotated[str, Query(max_length=NAME_MAX)] = ""
    until: Annotated[str, Query(max_length=NAME_MAX)] = ""
    limit: int = 200

    def search(self, portal: Portal) -> list[tuple[int, AuditEvent]]:
        return auditing.search(
            portal,
            actor=self.actor,
            type_prefix=self.type,
            dataset=self.dataset,
            grant=self.grant,
            since=_time(self.since, "since"),
            until=_time(self.until, "until"),
            limit=min(max(self.limit, 1), 1000),
        )


FilterDep = Annotated[EventFilter, Depends()]


@router.get("/audit", response_class=HTMLResponse)
def timeline(
    request: Request, portal: PortalDep, user: AuditorDep, filters: FilterDep
) -> HTMLResponse:
    return render(
        request,
        "audit.html",
        events=filters.search(portal),
        checkpoint=portal.audit.checkpoint(),
        vkey=portal.audit.vkey(),
        filters=asdict(filters),
    )


@router.get("/api/audit/events")
def events_api(portal: PortalDep, user: AuditorDep, filters: FilterDep) -> list[dict[str, Any]]:
    return [{"index": i, **auditing.event_view(e)} for i, e in filters.search(portal)]


@router.get("/audit/checkpoint", response_class=PlainTextResponse)
def checkpoint(portal: PortalDep, user: PublicDep) -> str:
    """The latest signed checkpoint (C2SP signed note); public, like the verifier key."""
    return portal.audit.checkpoint()


@router.get("/audit/vkey", response_class=PlainTextResponse)
def vkey(portal: PortalDep, user: PublicDep) -> str:
    return portal.audit.vkey() + "\n"


@router.get("/audit/evidence/{grant_id}")
def evidence_bundle(portal: PortalDep, user: AuditorDep, grant_id: GrantId) -> JSONResponse:
    """Every event of a grant with its inclusion proof against one signed checkpoint."""
    bundle = auditing.grant_evidence(portal, grant_id)
    return JSONResponse(
        bundle, headers={"Content-Disposition": f'attachment; filename="evidence-{grant_id}.json"'}
    )
