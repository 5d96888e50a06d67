"""Admin pages: users, roles (stored in the database policy, effective without a restart), keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from open_portal import permissions
from open_portal.auth import Identity
from open_portal.schemas import NAME_MAX
from open_portal.service import harvest
from open_portal.service import users as service
from open_portal.service.context import Portal
from open_portal.views import admin as views
from open_portal.web import CsrfDep, Guard, PortalDep

router = APIRouter()
AdminDep = Annotated[Identity, Depends(Guard(permissions.check_can_manage_platform))]


@router.get("/admin", response_class=HTMLResponse)
def admin_page(request: Request, portal: PortalDep, user: AdminDep) -> HTMLResponse:
    return views.admin_page(request, portal)


RoleField = Annotated[str, Form(max_length=NAME_MAX)]


def _change_role(
    request: Request, portal: Portal, actor: str, user_name: str, role: str, domain: str, add: bool
) -> RedirectResponse:
    service.change_role(
        portal, actor=actor, user_name=user_name, role=role, domain=domain or "*", add=add
    )
    return RedirectResponse(f"{request.app.state.prefix}/admin", status_code=303)


@router.post("/admin/roles", dependencies=[CsrfDep])
def add_role(
    request: Request,
    portal: PortalDep,
    user: AdminDep,
    user_name: RoleField,
    role: RoleField,
    domain: RoleField = "*",
) -> RedirectResponse:
    return _change_role(request, portal, user.name, user_name, role, domain, add=True)


@router.post("/admin/roles/remove", dependencies=[CsrfDep])
def remove_role(
    request: Request,
    portal: PortalDep,
    user: AdminDep,
    user_name: RoleField,
    role: RoleField,
    domain: RoleField = "*",
) -> RedirectResponse:
    return _change_role(request, portal, user.name, user_name, role, domain, add=False)


@router.get("/admin/harvest", response_class=HTMLResponse)
def harvest_page(request: Request, portal: PortalDep, user: AdminDep) -> HTMLResponse:
    """Registered catalogs (一本账 sources), their last harvest and why it failed."""
    return views.harvest_page(request, portal, actor=user.name)


@router.post("/admin/harvest", dependencies=[CsrfDep])
def register_source(
    request: Request,
    portal: PortalDep,
    user: AdminDep,
    url: Annotated[str, Form(max_length=512)],
    title: Annotated[str, Form(max_length=256)],
    kind: Annotated[str, Form(max_length=8)] = "dcat",
    interval_minutes: Annotated[int, Form(ge=5, le=43200)] = 60,
) -> RedirectResponse:
    source = harvest.register_source(
        portal,
        actor=user.name,
        url=url,
        kind=kind,
        title=title,
        interval_minutes=interval_minutes,
    )
    harvest.harvest(portal, actor=user.name, source_id=source.id)
    return RedirectResponse(f"{request.app.state.prefix}/admin/harvest", status_code=303)


@router.post("/admin/harvest/{source_id}/run", dependencies=[CsrfDep])
def run_harvest(
    request: Request,
    portal: PortalDep,
    user: AdminDep,
    source_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
) -> RedirectResponse:
    harvest.harvest(portal, actor=user.name, source_id=source_id)
    return RedirectResponse(f"{request.app.state.prefix}/admin/harvest", status_code=303)
