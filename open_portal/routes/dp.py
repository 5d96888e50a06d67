"""DP queries from a workspace, their accuracy before spending, and the budget over time."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from open_portal.auth import Identity
from open_portal.params import GrantId
from open_portal.service import dp as service
from open_portal.views import dp as views
from open_portal.views.dp import AccuracyOut, BudgetHistoryOut, DPAnswerOut
from open_portal.web import Guard, PortalDep

router = APIRouter()
UserDep = Annotated[Identity, Depends(Guard())]
ReaderDep = Annotated[Identity, Depends(Guard())]


@router.post("/api/workspace/grants/{grant_id}/dp", response_model=DPAnswerOut)
def dp_query(
    portal: PortalDep,
    user: UserDep,
    grant_id: GrantId,
    body: Annotated[dict[str, Any], Body()],
) -> DPAnswerOut:
    """One DP query: ``{"dataset": ..., "kind": ..., "epsilon": "0.1", ...}``; spends budget."""
    query = dict(body)
    dataset = query.pop("dataset", None)
    answer = service.run_dp_query(
        portal,
        actor=user.name,
        grant_id=grant_id,
        query=query,
        dataset_id=None if dataset is None else str(dataset),
    )
    return DPAnswerOut.model_validate(answer)


class AccuracyAsk(BaseModel):
    """A query as it would be asked, plus what the preview needs: the ε to try, or the wanted
    ±``ci95``; ``rows`` (means and variances) the number of rows the requester expects."""

    model_config = ConfigDict(extra="allow")

    dataset: str | None = Field(None, max_length=128)
    ci95: float | None = Field(None, gt=0)
    rows: int | None = Field(None, ge=1, le=10**12)


@router.post("/api/workspace/grants/{grant_id}/dp/preview", response_model=AccuracyOut)
def dp_preview(
    portal: PortalDep, user: UserDep, grant_id: GrantId, body: AccuracyAsk
) -> AccuracyOut:
    """Which ε gives ±X at 95% (or what ε gives), from declared bounds: spends nothing."""
    preview = service.preview_accuracy(
        portal,
        actor=user.name,
        grant_id=grant_id,
        dataset_id=body.dataset,
        query=dict(body.model_extra or {}),
        ci95=body.ci95,
        rows=body.rows,
    )
    return AccuracyOut.model_validate(preview)


@router.get("/grants/{grant_id}/accuracy", response_class=HTMLResponse)
def accuracy_page(
    request: Request,
    portal: PortalDep,
    user: UserDep,
    grant_id: GrantId,
    dataset: Annotated[str, Query(max_length=128)] = "",
    kind: Annotated[str, Query(max_length=32)] = "",
    column: Annotated[str, Query(max_length=128)] = "",
    epsilon: Annotated[str, Query(max_length=32)] = "",
    ci95: Annotated[str, Query(max_length=32)] = "",
    rows: Annotated[str, Query(max_length=16)] = "",
) -> HTMLResponse:
    """The accuracy preview as a form: the answer (or what is wrong) shown on the form."""
    asked = {"dataset": dataset, "kind": kind, "column": column, "epsilon": epsilon}
    asked.update(ci95=ci95, rows=rows)
    return views.accuracy_page(request, portal, actor=user.name, grant_id=grant_id, asked=asked)


@router.get("/api/grants/{grant_id}/budget", response_model=BudgetHistoryOut)
def budget(portal: PortalDep, user: ReaderDep, grant_id: GrantId) -> BudgetHistoryOut:
    """The grant's budget and its charges in order, for the budget chart."""
    history = service.budget_history(portal, actor=user.name, grant_id=grant_id)
    return BudgetHistoryOut.model_validate(history)


@router.get("/api/workspace/grants/{grant_id}/budget", response_model=BudgetHistoryOut)
def workspace_budget(portal: PortalDep, user: UserDep, grant_id: GrantId) -> BudgetHistoryOut:
    """The budget of the workspace's own grant and its charges (for the workspace client)."""
    history = service.budget_history(portal, actor=user.name, grant_id=grant_id)
    return BudgetHistoryOut.model_validate(history)
