"""The admin's pages: people with their roles and the verifier key, registered catalogs."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from open_portal.models import SourceKind, User
from open_portal.service import harvest
from open_portal.service import users as service
from open_portal.service.context import Portal
from open_portal.web import render


def admin_page(request: Request, portal: Portal) -> HTMLResponse:
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


def harvest_page(request: Request, portal: Portal, *, actor: str) -> HTMLResponse:
    """Registered catalogs (一本账 sources), their last harvest and why it failed."""
    with portal.sessions() as session:
        sources = harvest.list_sources(portal, session, actor=actor)
        return render(request, "harvest.html", sources=sources, kinds=[k.value for k in SourceKind])
