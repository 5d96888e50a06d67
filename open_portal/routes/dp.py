"""DP queries from a workspace, their accuracy before spending, and the budget over time."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from desensitize.dp import DPError, QueryKind
from open_portal import i18n
from open_portal.auth import Identity
from open_portal.exceptions import Error, InvalidInput
from open_portal.models import Dataset
from open_portal.params import GrantId
from open_portal.service import dp as service
from open_portal.service.grants import get_grant
from open_portal.web import Guard, PortalDep, language, render

router = APIRouter()
UserDep = Annotated[Identity, Depends(Guard())]
ReaderDep = Annotated[Identity, Depends(Guard())]


@router.post("/api/workspace/grants/{grant_id}/dp")
def dp_query(
    portal: PortalDep,
    user: UserDep,
    grant_id: GrantId,
    body: Annotated[dict[str, Any], Body()],
) -> dict[str, Any]:
    """One DP query: ``{"dataset": ..., "kind": ..., "epsilon": "0.1", ...}``; spends budget."""
    query = dict(body)
    dataset = query.pop("dataset", None)
    return service.run_dp_query(
        portal,
        actor=user.name,
        grant_id=grant_id,
        query=query,
        dataset_id=None if dataset is None else str(dataset),
    )


class AccuracyAsk(BaseModel):
    """A query as it would be asked, plus what the preview needs: the ε to try, or the wanted
    ±``ci95``; ``rows`` (means and variances) the number of rows the requester expects."""

    model_config = ConfigDict(extra="allow")

    dataset: str | None = Field(None, max_length=128)
    ci95: float | None = Field(None, gt=0)
    rows: int | None = Field(None, ge=1, le=10**12)


@router.post("/api/workspace/grants/{grant_id}/dp/preview")
def dp_preview(
    portal: PortalDep, user: UserDep, grant_id: GrantId, body: AccuracyAsk
) -> dict[str, Any]:
    """Which ε gives ±X at 95% (or what ε gives), from declared bounds: spends nothing."""
    return service.preview_accuracy(
        portal,
        actor=user.name,
        grant_id=grant_id,
        dataset_id=body.dataset,
        query=dict(body.model_extra or {}),
        ci95=body.ci95,
        rows=body.rows,
    )


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
    with portal.sessions() as session:
        grant = get_grant(portal, session, actor=user.name, grant_id=grant_id)
        schemas = {d.dataset_id: _declared(session, d.dataset_id) for d in grant.datasets}
    asked = {"dataset": dataset, "kind": kind, "column": column, "epsilon": epsilon}
    asked.update(ci95=ci95, rows=rows)
    result, error = None, ""
    if kind:
        try:
            result = service.preview_accuracy(
                portal,
                actor=user.name,
                grant_id=grant_id,
                dataset_id=dataset or None,
                query=_form_query(kind, column, epsilon if not ci95 else ""),
                ci95=_number(ci95, "ci95", float),
                rows=_number(rows, "rows", int),
            )
        except (Error, DPError) as exc:
            error = i18n.message(exc, language(request))
    return render(
        request,
        "accuracy.html",
        grant_id=grant_id,
        schemas=schemas,
        kinds=[k.value for k in QueryKind if k not in (QueryKind.GROUP_COUNT, QueryKind.GROUP_SUM)],
        asked=asked,
        result=result,
        error=error,
    )


def _declared(session: Any, dataset_id: str) -> dict[str, Any]:
    dataset = session.get(Dataset, dataset_id)
    return dict(dataset.dp_schema or {}) if dataset is not None else {}


def _form_query(kind: str, column: str, epsilon: str) -> dict[str, Any]:
    query: dict[str, Any] = {"kind": kind}
    if column:
        query["column"] = column
    if epsilon:
        query["epsilon"] = epsilon
    if kind == "quantile":
        query["q"] = 0.5
    return query


def _number(text: str, name: str, kind: type[float] | type[int]) -> Any:
    if not text.strip():
        return None
    try:
        value = kind(text.strip())
    except ValueError:
        raise InvalidInput(f"{name} must be a number", zh=f"{name} 须为数字") from None
    if not value > 0:
        raise InvalidInput(f"{name} must be positive", zh=f"{name} 须为正数")
    return value


@router.get("/api/grants/{grant_id}/budget")
def budget(portal: PortalDep, user: ReaderDep, grant_id: GrantId) -> dict[str, Any]:
    """The grant's budget and its charges in order, for the budget chart."""
    return service.budget_history(portal, actor=user.name, grant_id=grant_id)


@router.get("/api/workspace/grants/{grant_id}/budget")
def workspace_budget(portal: PortalDep, user: UserDep, grant_id: str) -> dict[str, Any]:
    """The budget of the workspace's own grant and its charges (for the workspace client)."""
    return service.budget_history(portal, actor=user.name, grant_id=grant_id)
