"""DP queries from a workspace, and the budget of a grant over time."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends

from open_portal.auth import Identity
from open_portal.params import GrantId
from open_portal.service import dp as service
from open_portal.web import Guard, PortalDep

router = APIRouter()
UserDep = Annotated[Identity, Depends(Guard("use", "grant", per_resource=True))]
ReaderDep = Annotated[Identity, Depends(Guard("read", "grant", per_resource=True))]


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


@router.get("/api/grants/{grant_id}/budget")
def budget(portal: PortalDep, user: ReaderDep, grant_id: GrantId) -> dict[str, Any]:
    """The grant's budget and its charges in order, for the budget chart."""
    return service.budget_history(portal, actor=user.name, grant_id=grant_id)


@router.get("/api/workspace/grants/{grant_id}/budget")
def workspace_budget(portal: PortalDep, user: UserDep, grant_id: str) -> dict[str, Any]:
    """The budget of the workspace's own grant and its charges (for the workspace client)."""
    return service.budget_history(portal, actor=user.name, grant_id=grant_id)
