"""Admin pages: users, roles (stored in the database policy, effective without a restart), keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

from open_portal.auth import Identity
from open_portal.models import User
from open_portal.service import users as service
from open_portal.web import CsrfDep, Guard, PortalDep, render

router = APIRouter()
AdminDep = Annotated[Identity, Depends(Guard("manage", "admin"))]


@router.get("/admin", response_class=HTMLResponse)
def admin_page(request: Request, portal: PortalDep, user: AdminDep) -> HTMLResponse:
    with portal.sessions() as session:
        people = session.scalars(select(User).order_by(User.name)).all()
        rows = [(u, portal.policy.role_assignments(u.name)) for u in people]
        return render(
            request,
            "admin.html",
            rows=rows,
            all_roles=service.ROLES,
            vkey=portal.audit.vkey(),
        )


@router.post("/admin/roles", dependencies=[CsrfDep])
def change_role(
    request: Request,
    portal: PortalDep,
    user: AdminDep,
    user_name: Annotated[str, Form()],
    role: Annotated[str, Form()],
    domain: Annotated[str, Form()] = "*",
    action: Annotated[str, Form()] = "add",
) -> RedirectResponse:
    service.change_role(
        portal,
        actor=user.name,
        user_name=user_name,
        role=role,
        domain=domain or "*",
        add=action == "add",
    )
    return RedirectResponse(f"{request.app.state.prefix}/admin", status_code=303)
