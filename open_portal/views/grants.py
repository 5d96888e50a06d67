"""Grants as their members, owners and officers see them: pages and the JSON of the API."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from open_portal import charts, i18n, ledger, permissions
from open_portal.models import Dataset, Grant, Level
from open_portal.service import grants as service
from open_portal.service.applications import ACCESS_OF_LEVEL
from open_portal.service.context import Portal
from open_portal.service.usage import grant_usage
from open_portal.web import render


class BudgetOut(BaseModel):
    """The grant's privacy budget from its ledger (ε as exact decimals)."""

    total: str
    spent: str
    remaining: str


class UsageOut(BaseModel):
    workspace_seconds: float
    workspace_starts: int
    queries: int
    exports_requested: int
    exports_released: int
    budget_over_time: list[tuple[str, str]]  # (time, ε spent after that charge)


class GrantOut(BaseModel):
    id: str
    holder: str
    organisation: str
    members: list[str]
    invited: list[str]
    level: str
    status: str
    starts_at: str  # ISO 8601
    ends_at: str
    datasets: dict[str, int]  # dataset -> the version granted
    levels: dict[str, str]  # dataset -> the level it is granted at
    export_rules: dict[str, Any]
    budget: BudgetOut
    usage: UsageOut


class WorkspaceDatasetOut(BaseModel):
    id: str
    title: str
    title_en: str
    level: str
    file: str | None  # the release file in the workspace (L2); none for L3 (DP only)
    dp_schema: dict[str, Any] | None


class WorkspaceGrantOut(BaseModel):
    """What the client inside a workspace sees of its grant."""

    grant_id: str
    level: str
    ends_at: str  # ISO 8601
    datasets: list[WorkspaceDatasetOut]
    budget: BudgetOut


def budget_of(portal: Portal, grant: Grant) -> tuple[BudgetOut, list[tuple[str, str]]]:
    """The privacy budget from the ledger (exact), and ε spent after each charge for the chart."""
    try:
        state = ledger.balance(portal.engine, grant.id)
    except ledger.LedgerNotFound:
        total = str(Decimal(grant.epsilon_budget))
        return BudgetOut(total=total, spent="0", remaining=total), []
    series = [
        (c.created_at.isoformat(), str(c.spent_after))
        for c in ledger.charges(portal.engine, grant.id)
    ]
    budget = BudgetOut(
        total=str(state.budget), spent=str(state.spent), remaining=str(state.budget - state.spent)
    )
    return budget, series


def budget_chart(portal: Portal, grant: Grant, zone: ZoneInfo) -> charts.BudgetChart | None:
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


def grant_out(portal: Portal, grant: Grant) -> GrantOut:
    usage = grant_usage(portal, grant)
    budget, series = budget_of(portal, grant)
    return GrantOut(
        id=grant.id,
        holder=grant.holder,
        organisation=grant.organisation,
        members=grant.member_names,
        invited=grant.invited_names,
        level=grant.level.value,
        status=grant.status.value,
        starts_at=grant.starts_at.isoformat(),
        ends_at=grant.ends_at.isoformat(),
        datasets={d.dataset_id: d.version_id for d in grant.datasets},
        levels={d.dataset_id: d.level.value for d in grant.datasets},
        export_rules=grant.export_rules or {},
        budget=budget,
        usage=UsageOut(
            workspace_seconds=round(usage.workspace_seconds, 1),
            workspace_starts=usage.workspace_starts,
            queries=usage.queries,
            exports_requested=usage.exports_requested,
            exports_released=usage.exports_released,
            budget_over_time=series,
        ),
    )


def shown(portal: Portal, *, actor: str, grant_id: str) -> GrantOut:
    """One grant as the API returns it (after a change, as it is now)."""
    with portal.sessions() as session:
        return grant_out(portal, service.get_grant(portal, session, actor=actor, grant_id=grant_id))


def listed(portal: Portal, *, actor: str) -> list[GrantOut]:
    with portal.sessions() as session:
        return [grant_out(portal, g) for g in service.list_grants(portal, session, actor=actor)]


def workspace_grant_out(portal: Portal, session: Session, grant: Grant) -> WorkspaceGrantOut:
    datasets = []
    for item in grant.datasets:
        dataset = session.get(Dataset, item.dataset_id)
        assert dataset is not None
        datasets.append(
            WorkspaceDatasetOut(
                id=dataset.id,
                title=dataset.title_zh,
                title_en=dataset.title_en,
                level=item.level.value,
                file=None
                if item.level == Level.L3
                else str(Path(dataset.id).with_suffix(".parquet")),
                dp_schema=dataset.dp_schema,
            )
        )
    return WorkspaceGrantOut(
        grant_id=grant.id,
        level=grant.level.value,
        ends_at=grant.ends_at.isoformat(),
        datasets=datasets,
        budget=budget_of(portal, grant)[0],
    )


# ---- pages -------------------------------------------------------------------------------------


def list_page(request: Request, portal: Portal, *, actor: str) -> HTMLResponse:
    with portal.sessions() as session:
        return render(
            request, "grants.html", items=service.list_grants(portal, session, actor=actor)
        )


def grant_page(request: Request, portal: Portal, *, actor: str, grant_id: str) -> HTMLResponse:
    with portal.sessions() as session:
        grant = service.get_grant(portal, session, actor=actor, grant_id=grant_id)
        return render(
            request,
            "grant.html",
            grant=grant,
            view=grant_out(portal, grant).model_dump(mode="json"),
            chart=budget_chart(
                portal, grant, i18n.pick_zone(request.cookies.get(i18n.ZONE_COOKIE))
            ),
            datasets={d.dataset_id: session.get(Dataset, d.dataset_id) for d in grant.datasets},
            rights=permissions.grant_rights(portal.policy, session, actor, grant, portal.clock()),
            level_access=ACCESS_OF_LEVEL,
        )
