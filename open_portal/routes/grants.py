"""Grants: my grants, one grant with its usage and budget, status changes, the workspace API.

One endpoint per action, for forms (``/grants/{id}/<action>``, answered by a redirect to the
grant) and for the API (``/api/grants/{id}/<action>``, answered by the grant).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from open_portal import permissions
from open_portal.auth import Identity
from open_portal.params import GrantId
from open_portal.schemas import TEXT_MAX, ReasonInput
from open_portal.service import grants as service
from open_portal.service.context import Portal
from open_portal.views import grants as views
from open_portal.views.grants import GrantOut, WorkspaceGrantOut
from open_portal.web import CsrfDep, Guard, PortalDep

router = APIRouter()
ReaderDep = Annotated[Identity, Depends(Guard())]
ChangeDep = Annotated[Identity, Depends(Guard())]
UserDep = Annotated[Identity, Depends(Guard())]
ReasonField = Annotated[str, Form(max_length=TEXT_MAX)]


def _to_page(request: Request, grant_id: str) -> RedirectResponse:
    return RedirectResponse(f"{request.app.state.prefix}/grants/{grant_id}", status_code=303)


# ---- pages -------------------------------------------------------------------------------


@router.get("/grants", response_class=HTMLResponse)
def my_grants(request: Request, portal: PortalDep, user: ReaderDep) -> HTMLResponse:
    return views.list_page(request, portal, actor=user.name)


@router.get("/grants/{grant_id}", response_class=HTMLResponse)
def grant_page(
    request: Request, portal: PortalDep, user: ReaderDep, grant_id: GrantId
) -> HTMLResponse:
    return views.grant_page(request, portal, actor=user.name, grant_id=grant_id)


# ---- one endpoint per action: a form's and the API's --------------------------------------


def _endpoints(action: str, change: Callable[[Portal, str, str, str], object]) -> None:
    """Register ``POST /grants/{id}/<action>`` (a form) and ``POST /api/grants/{id}/<action>``."""

    def from_form(
        request: Request,
        portal: PortalDep,
        user: ChangeDep,
        grant_id: GrantId,
        reason: ReasonField = "",
    ) -> RedirectResponse:
        change(portal, user.name, grant_id, reason)
        return _to_page(request, grant_id)

    def from_api(
        portal: PortalDep, user: ChangeDep, grant_id: GrantId, body: ReasonInput | None = None
    ) -> GrantOut:
        change(portal, user.name, grant_id, body.reason if body else "")
        return views.shown(portal, actor=user.name, grant_id=grant_id)

    router.add_api_route(
        f"/grants/{{grant_id}}/{action}",
        from_form,
        methods=["POST"],
        dependencies=[CsrfDep],
        name=f"{action}_grant_from_form",
        response_class=RedirectResponse,
    )
    router.add_api_route(
        f"/api/grants/{{grant_id}}/{action}",
        from_api,
        methods=["POST"],
        name=f"{action}_grant",
        response_model=GrantOut,
    )


def _status_change(action: str) -> Callable[[Portal, str, str, str], object]:
    def change(portal: Portal, actor: str, grant_id: str, reason: str) -> object:
        return service.change_status(
            portal, actor=actor, grant_id=grant_id, action=action, reason=reason
        )

    return change


for _action in ("suspend", "reinstate", "revoke", "end"):
    _endpoints(_action, _status_change(_action))


def _accept(portal: Portal, actor: str, grant_id: str, reason: str) -> object:
    return service.answer_invitation(portal, actor=actor, grant_id=grant_id, accept=True)


def _decline(portal: Portal, actor: str, grant_id: str, reason: str) -> object:
    return service.answer_invitation(portal, actor=actor, grant_id=grant_id, accept=False)


_endpoints("accept", _accept)
_endpoints("decline", _decline)


# ---- JSON API ----------------------------------------------------------------------------


@router.get("/api/grants", response_model=list[GrantOut])
def api_list(portal: PortalDep, user: ReaderDep) -> list[GrantOut]:
    return views.listed(portal, actor=user.name)


@router.get("/api/grants/{grant_id}", response_model=GrantOut)
def api_show(portal: PortalDep, user: ReaderDep, grant_id: GrantId) -> GrantOut:
    return views.shown(portal, actor=user.name, grant_id=grant_id)


@router.get("/api/workspace/grants/{grant_id}", response_model=WorkspaceGrantOut)
def workspace_grant(portal: PortalDep, user: UserDep, grant_id: GrantId) -> WorkspaceGrantOut:
    """What the client inside a workspace sees of its grant."""
    with portal.sessions() as session:
        grant = service.get_grant(portal, session, actor=user.name, grant_id=grant_id)
        permissions.check_can_use_grant(portal.policy, session, user.name, grant, portal.clock())
        return views.workspace_grant_out(portal, session, grant)
