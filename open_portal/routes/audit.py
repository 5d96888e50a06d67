"""Audit pages for security officers: timeline with filters, checkpoint, verifier key, evidence."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse

from audit import AuditEvent
from open_portal import permissions
from open_portal.auth import Identity
from open_portal.exceptions import InvalidInput
from open_portal.i18n import ZONE_COOKIE, pick_zone
from open_portal.params import GrantId
from open_portal.schemas import NAME_MAX
from open_portal.service import auditing
from open_portal.service.context import Portal
from open_portal.views import audit as views
from open_portal.views.audit import AuditEventOut
from open_portal.web import Guard, PortalDep

router = APIRouter()
AuditorDep = Annotated[Identity, Depends(Guard(permissions.check_can_read_audit))]
PublicDep = Annotated[Identity, Depends(Guard(login=False))]


UTC = ZoneInfo("UTC")


def _time(value: str, name: str, zone: ZoneInfo = UTC) -> datetime | None:
    """An ISO date or time; without a zone it is the user's local time."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"{name} must be a date (YYYY-MM-DD) or an ISO time",
            zh=f"{name} 须为日期（YYYY-MM-DD）或 ISO 时间",
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
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


@dataclass
class PageFilter:
    """The timeline page's filters and position: dates are whole days in the user's zone."""

    actor: Annotated[str, Query(max_length=NAME_MAX)] = ""
    type: Annotated[str, Query(max_length=NAME_MAX)] = ""
    dataset: Annotated[str, Query(max_length=NAME_MAX)] = ""
    grant: Annotated[str, Query(max_length=NAME_MAX)] = ""
    since: Annotated[str, Query(max_length=NAME_MAX)] = ""
    until: Annotated[str, Query(max_length=NAME_MAX)] = ""
    views: Annotated[str, Query(max_length=1)] = ""
    before: Annotated[int | None, Query(ge=0)] = None
    after: Annotated[int | None, Query(ge=0)] = None

    def page(self, portal: Portal, zone: ZoneInfo) -> auditing.TimelinePage:
        since = _time(self.since, "since", zone)
        until = _time(self.until, "until", zone)
        if until is not None and len(self.until) <= 10:  # a date: up to the end of that day
            until += timedelta(days=1)
        return auditing.timeline(
            portal,
            actor=self.actor,
            type_prefix=self.type,
            dataset=self.dataset,
            grant=self.grant,
            since=since,
            until=until,
            noise=self.views == "1",
            before=self.before,
            after=self.after,
            size=PAGE_SIZE,
        )

    def query(self, **changes: Any) -> str:
        """This page's query string with ``changes`` (None removes a parameter)."""
        values = {k: v for k, v in asdict(self).items() if k not in ("before", "after")}
        values.update(changes)
        return urlencode({k: v for k, v in values.items() if v not in (None, "")})


FilterDep = Annotated[EventFilter, Depends()]
PageDep = Annotated[PageFilter, Depends()]
PAGE_SIZE = 50


@router.get("/audit", response_class=HTMLResponse)
def timeline(
    request: Request, portal: PortalDep, user: AuditorDep, filters: PageDep
) -> HTMLResponse:
    page = filters.page(portal, pick_zone(request.cookies.get(ZONE_COOKIE)))
    return views.timeline_page(request, portal, page, filters)


@router.get("/api/audit/events", response_model=list[AuditEventOut])
def events_api(portal: PortalDep, user: AuditorDep, filters: FilterDep) -> list[AuditEventOut]:
    return views.events_out(filters.search(portal))


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
