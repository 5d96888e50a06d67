"""Home page per role, language switch, notifications, health."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import text

from open_portal.auth import Identity
from open_portal.i18n import LANG_COOKIE, LANGUAGES
from open_portal.service import notifications
from open_portal.web import Guard, PortalDep, render

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request, user: Annotated[Identity, Depends(Guard("read", "home", login=False))]
) -> HTMLResponse:
    return render(request, "home.html")


@router.get("/lang/{code}")
def switch_language(
    request: Request,
    code: str,
    user: Annotated[Identity, Depends(Guard("read", "home", login=False))],
    next: str = "",
) -> RedirectResponse:
    base = request.app.state.prefix
    target = next if next.startswith(base + "/") or next == base else base + "/"
    response = RedirectResponse(target, status_code=303)
    if code in LANGUAGES:
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 86400, samesite="lax", path="/")
    return response


@router.get("/notifications", response_class=HTMLResponse)
def notifications_page(
    request: Request, portal: PortalDep, user: Annotated[Identity, Depends(Guard("read", "home"))]
) -> HTMLResponse:
    with portal.sessions.begin() as session:
        items = notifications.unread(session, user.name)
        notifications.mark_read(session, user.name)
    return render(request, "notifications.html", items=items)


@router.get("/api/health")
def health(
    portal: PortalDep, user: Annotated[Identity, Depends(Guard("read", "home", login=False))]
) -> dict[str, object]:
    """Liveness and readiness: the database answers and the audit log is open."""
    with portal.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return {"status": "ok", "database": portal.engine.dialect.name, "audit_size": portal.audit.size}


@router.get("/api/me")
def me(
    portal: PortalDep, user: Annotated[Identity, Depends(Guard("read", "home"))]
) -> dict[str, object]:
    """Who the caller is and which roles the policy gives them."""
    return {"name": user.name, "roles": portal.policy.all_roles(user.name), "via": user.via}
