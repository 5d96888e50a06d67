"""The home page per role and a person's notifications."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

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
