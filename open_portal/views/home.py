"""The home page per role, a person's notifications, and the health and identity answers."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from open_portal.service import notifications, queues
from open_portal.service.context import Portal
from open_portal.web import render


def home_page(request: Request) -> HTMLResponse:
    return render(request, "home.html")


def notifications_page(request: Request, portal: Portal, *, actor: str) -> HTMLResponse:
    """New notifications apart from earlier ones; showing them marks them read."""
    with portal.sessions.begin() as session:
        new = queues.unread(session, actor=actor)
        earlier = notifications.earlier(session, actor)
        notifications.mark_read(session, actor)
    return render(request, "notifications.html", new=new, earlier=earlier)


class HealthOut(BaseModel):
    """Liveness and readiness: the database's dialect and the audit log's size."""

    status: str
    database: str
    audit_size: int


class MeOut(BaseModel):
    """Who the caller is, the roles the policy gives them and how they signed in."""

    name: str
    roles: list[str]
    via: str
