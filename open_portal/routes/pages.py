"""Home page per role, language switch, notifications, health, the API description, styles."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from sqlalchemy import text

from open_portal.auth import Identity
from open_portal.exceptions import NotFound
from open_portal.i18n import LANG_COOKIE, LANGUAGES
from open_portal.schemas import LINE_MAX
from open_portal.views import home as views
from open_portal.views.home import HealthOut, MeOut
from open_portal.web import Guard, PortalDep

router = APIRouter()
AnyoneDep = Annotated[Identity, Depends(Guard(login=False))]
STATIC = Path(__file__).resolve().parent.parent / "static"


@router.get("/", response_class=HTMLResponse)
def home(request: Request, user: Annotated[Identity, Depends(Guard(login=False))]) -> HTMLResponse:
    return views.home_page(request)


@router.get("/lang/{code}")
def switch_language(
    request: Request,
    code: str,
    user: Annotated[Identity, Depends(Guard(login=False))],
    next: Annotated[str, Query(max_length=LINE_MAX)] = "",
) -> RedirectResponse:
    base = request.app.state.prefix
    target = next if next.startswith(base + "/") or next == base else base + "/"
    response = RedirectResponse(target, status_code=303)
    if code in LANGUAGES:
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 86400, samesite="lax", path="/")
    return response


@router.get("/notifications", response_class=HTMLResponse)
def notifications_page(
    request: Request, portal: PortalDep, user: Annotated[Identity, Depends(Guard())]
) -> HTMLResponse:
    return views.notifications_page(request, portal, actor=user.name)


@router.get("/api/health", response_model=HealthOut)
def health(portal: PortalDep, user: Annotated[Identity, Depends(Guard(login=False))]) -> HealthOut:
    """Liveness and readiness: the database answers and the audit log is open."""
    with portal.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return HealthOut(status="ok", database=portal.engine.dialect.name, audit_size=portal.audit.size)


@router.get("/api/me", response_model=MeOut)
def me(portal: PortalDep, user: Annotated[Identity, Depends(Guard())]) -> MeOut:
    """Who the caller is and which roles the policy gives them."""
    return MeOut(name=user.name, roles=portal.policy.all_roles(user.name), via=user.via)


@router.get("/api/openapi.json", include_in_schema=False)
def openapi_document(request: Request, user: AnyoneDep) -> dict[str, Any]:
    """The OpenAPI description of the portal's API."""
    document: dict[str, Any] = request.app.openapi()
    return document


@router.get("/api/docs", include_in_schema=False, response_class=HTMLResponse)
def api_docs(request: Request, user: AnyoneDep) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=f"{request.app.state.prefix}/api/openapi.json", title=request.app.title
    )


@router.get("/static/{name}", include_in_schema=False)
def static_file(name: str, user: AnyoneDep) -> FileResponse:
    """A file of the portal's stylesheet directory (one path segment, no directories)."""
    path = STATIC / name
    if name.startswith(".") or not path.is_file():
        raise NotFound(f"no static file {name!r}", zh=f"没有静态文件 {name}")
    return FileResponse(path)
