"""Grants: my grants, one grant with its usage and budget, status changes, the workspace API."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from open_portal import charts, i18n, ledger
from open_portal.auth import Identity
from open_portal.models import Dataset, Grant, Level
from open_portal.params import GrantId, Word
from open_portal.schemas import TEXT_MAX, ReasonInput
from open_portal.service import grants as service
from open_portal.service.access import check, grant_resource
from open_portal.service.applications import ACCESS_OF_LEVEL
from open_portal.service.usage import grant_usage
from open_portal.web import CsrfDep, Guard, PortalDep, render

router = APIRouter()
ReaderDep = Annotated[Identity, Depends(Guard("read", "grant", per_resource=True))]
ChangeDep = Annotated[Identity, Depends(Guard("change", "grant", per_resource=True))]
UserDep = Annotated[Identity, Depends(Guard("use", "grant", per_resource=True))]
ACTIONS = ("suspend", "reinstate", "revoke", "end")
INVITATION_ANSWERS = ("accept", "decline")


def budget_of(portal: Any, grant: Grant) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """The privacy budget from the ledger (exact), and ε spent after each charge for the chart."""
    try:
        state = ledger.balance(portal.engine, grant.id)
    except ledger.LedgerNotFound:
        total = Decimal(grant.epsilon_budget)
        return {"total": str(total), "spent": "0", "remaining": str(total)}, []
    series = [
        (c.created_at.isoformat(), str(c.spent_after))
        for c in ledger.charges(portal.engine, grant.id)
    ]
    return {
        "total": str(state.budget),
        "spent": str(state.spent),
        "remaining": str(state.budget - state.spent),
    }, series


def budget_chart(portal: Any, grant: Grant, zone: ZoneInfo) -> charts.BudgetChart | None:
    """The budget chart of the grant page; None when the grant has no DP budget."""
    try:
        total = ledger.balance(portal.engine, grant.id).budget
    except ledger.LedgerNotFound:
        return None
    if total <= 0:
        return None
    spent = [(c.created_at, c.spent_after) for c in ledger.charges(portal.engine, grant.id)]
    return charts.budget_chart(
        total,
        spent,
        start=grant.starts_at,
        now=min(portal.clock(), grant.ends_at),
        zone=zone,
    )


def grant_view(portal: Any, grant: Grant) -> dict[str, Any]:
    usage = grant_usage(portal, grant)
    budget, series = budget_of(portal, grant)
    return {
        "id": grant.id,
        "holder": grant.holder,
        "organisation": grant.organisation,
        "members": grant.member_names,
        "invited": grant.invited_names,
        "level": grant.level.value,
        "status": grant.status.value,
        "starts_at": grant.starts_at.isoformat(),
        "ends_at": grant.ends_at.isoformat(),
        "datasets": {d.dataset_id: d.version_id for d in grant.datasets},
        "levels": {d.dataset_id: d.level.value for d in grant.datasets},
        "export_rules": grant.export_rules,
        "budget": budget,
        "usage": {
            "workspace_seconds": round(usage.workspace_seconds, 1),
            "workspace_starts": usage.workspace_starts,
            "queries": usage.queries,
            "exports_requested": usage.exports_requested,
            "exports_released": usage.exports_released,
            "budget_over_time": series,
        },
    }


@router.get("/grants", response_class=HTMLResponse)
def my_grants(request: Request, portal: PortalDep, user: ReaderDep) -> HTMLResponse:
    with portal.sessions() as session:
        return render(
            request, "grants.html", items=service.list_grants(portal, session, actor=user.name)
        )


@router.get("/grants/{grant_id}", response_class=HTMLResponse)
def grant_page(
    request: Request, portal: PortalDep, user: ReaderDep, grant_id: GrantId
) -> HTMLResponse:
    with portal.sessions() as session:
        grant = service.get_grant(portal, session, actor=user.name, grant_id=grant_id)
        view = grant_view(portal, grant)
        return render(
            request,
            "grant.html",
            grant=grant,
            view=view,
            chart=budget_chart(
                portal, grant, i18n.pick_zone(request.cookies.get(i18n.ZONE_COOKIE))
            ),
            datasets={d.dataset_id: session.get(Dataset, d.dataset_id) for d in grant.datasets},
            can_use=user.name in grant.member_names and grant.is_usable(portal.clock()),
            level_access=ACCESS_OF_LEVEL,
        )


@router.post("/grants/{grant_id}/{action}", dependencies=[CsrfDep])
def change_from_form(
    request: Request,
    portal: PortalDep,
    user: ChangeDep,
    grant_id: GrantId,
    action: Word,
    reason: Annotated[str, Form(max_length=TEXT_MAX)] = "",
) -> RedirectResponse:
    _change(portal, user, grant_id, action, reason)
    return RedirectResponse(f"{request.app.state.prefix}/grants/{grant_id}", status_code=303)


def _change(portal: Any, user: Identity, grant_id: str, action: str, reason: str) -> Grant:
    if action in INVITATION_ANSWERS:
        return service.answer_invitation(
            portal, actor=user.name, grant_id=grant_id, accept=action == "accept"
        )
    if action not in ACTIONS:
        from open_portal.exceptions import NotFound

        raise NotFound(f"unknown action {action!r}", zh=f"未知操作 {action}")
    return service.change_status(
        portal, actor=user.name, grant_id=grant_id, action=action, reason=reason
    )


@router.get("/api/grants")
def api_list(portal: PortalDep, user: ReaderDep) -> list[dict[str, Any]]:
    with portal.sessions() as session:
        return [
            grant_view(portal, g) for g in service.list_grants(portal, session, actor=user.name)
        ]


@router.get("/api/grants/{grant_id}")
def api_show(portal: PortalDep, user: ReaderDep, grant_id: GrantId) -> dict[str, Any]:
    with portal.sessions() as session:
        return grant_view(
            portal, service.get_grant(portal, session, actor=user.name, grant_id=grant_id)
        )


@router.post("/api/grants/{grant_id}/{action}")
def api_change(
    portal: PortalDep,
    user: ChangeDep,
    grant_id: GrantId,
    action: Word,
    body: ReasonInput | None = None,
) -> dict[str, Any]:
    _change(portal, user, grant_id, action, body.reason if body else "")
    with portal.sessions() as session:
        return grant_view(
            portal, service.get_grant(portal, session, actor=user.name, grant_id=grant_id)
        )


@router.get("/api/workspace/grants/{grant_id}")
def workspace_grant(portal: PortalDep, user: UserDep, grant_id: GrantId) -> dict[str, Any]:
    """What the client inside a workspace sees of its grant."""
    with portal.sessions() as session:
        grant = service.get_grant(portal, session, actor=user.name, grant_id=grant_id)
        check(user.name, "use", grant_resource(session, grant, user.name, portal.clock()))
        view = grant_view(portal, grant)
        datasets = []
        for item in grant.datasets:
            dataset = session.get(Dataset, item.dataset_id)
            assert dataset is not None
            datasets.append(
                {
                    "id": dataset.id,
                    "title": dataset.title_zh,
                    "title_en": dataset.title_en,
                    "level": item.level.value,
                    "file": None
                    if item.level == Level.L3
                    else str(Path(dataset.id).with_suffix(".parquet")),
                    "dp_schema": dataset.dp_schema,
                }
            )
    return {
        "grant_id": grant.id,
        "level": grant.level.value,
        "ends_at": view["ends_at"],
        "datasets": datasets,
        "budget": view["budget"],
    }
