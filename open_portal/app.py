"""The portal's FastAPI application: routes under the hub service prefix, one error handler."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from collections.abc import AsyncIterator

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import ValidationError

import policies
from open_portal import browser_guard
from open_portal.auth import HubSSO, Signer
from open_portal.config import PortalSettings, get_settings
from open_portal.exceptions import ConfigurationError, Error
from open_portal.models import Grant
from open_portal.routes import ROUTERS
from open_portal.routes.catalog import MAX_UPLOAD
from open_portal.service import assessment, destruction, detection, grants, harvest
from open_portal.service.context import Portal, open_portal
from open_portal.vault import write_private
from open_portal.web import (
    BodyLimit,
    LoginRequired,
    check_api_csrf,
    form_error,
    language,
    render,
    status_of,
    upload_paths,
    workspace_boundary,
)

log = logging.getLogger("pds.portal")
EXPIRY_INTERVAL = 30.0


def wants_json(request: Request) -> bool:
    return "/api/" in request.url.path or "application/json" in request.headers.get("accept", "")


async def handle_error(request: Request, exc: Exception) -> Response:
    """Domain errors become a 4xx with a message in the user's language, never a traceback."""
    lang = language(request)
    status = status_of(exc)
    identity = getattr(request.state, "identity", None)
    anonymous = identity is None or identity.is_anonymous
    message = form_error(exc, lang)
    if not wants_json(request) and (
        isinstance(exc, LoginRequired) or (status == 403 and anonymous)
    ):
        prefix = request.app.state.prefix
        return RedirectResponse(f"{prefix}/login?next={request.url.path}", status_code=302)
    if wants_json(request):
        return JSONResponse({"error": message, "status": status}, status_code=status)
    return render(request, "error.html", status_code=status, message=message, status=status)


def cookie_secret(settings: PortalSettings) -> bytes:
    """The secret signing portal cookies: configured, or generated into the data dir in demo mode."""
    if settings.cookie_secret is not None:
        value = settings.cookie_secret.get_secret_value()
        if len(value) < 32:
            raise ConfigurationError("PDS_COOKIE_SECRET must be at least 32 characters")
        return value.encode()
    path = settings.secrets_dir / "portal_cookie_secret"
    if path.exists():
        return path.read_bytes()
    if not settings.demo:
        raise ConfigurationError("PDS_COOKIE_SECRET is not set (required outside demo mode)")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    secret = secrets.token_hex(32).encode()
    write_private(path, secret)
    return secret


def create_app(portal: Portal, sso: HubSSO, *, prefix: str) -> FastAPI:
    """The app serving every route under ``prefix`` (the hub's ``/services/portal``)."""
    prefix = prefix.rstrip("/")

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(detection.resume_detections, portal)
        await asyncio.to_thread(assessment.resume_assessments, portal)
        task = asyncio.create_task(_expire_periodically(portal))
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    # Every route, the API description and the stylesheet included, is a route of ROUTERS, so
    # that the workspace boundary runs before each one.
    app = FastAPI(
        title="Public Data Sandbox portal / 公共数据沙箱门户",
        version="0.1.0",
        docs_url=None,
        openapi_url=None,
        redoc_url=None,
        lifespan=lifespan,
        dependencies=[Depends(workspace_boundary), Depends(check_api_csrf)],
        # a long form field is parsed to its end and refused by its max_length (422, bilingual),
        # not cut off mid-upload; bodies as a whole are capped by BodyLimit
        form_limits={"max_part_size": 4 * 1024**2},
    )
    app.state.portal = portal
    app.state.sso = sso
    app.state.prefix = prefix
    # over https the portal's cookies are never sent over plain http
    app.state.secure_cookies = portal.settings.public_url.startswith("https://")
    app.middleware("http")(browser_guard.guard)
    for router in ROUTERS:
        app.include_router(router, prefix=prefix)
    app.add_middleware(
        BodyLimit, uploads=upload_paths(prefix, ROUTERS), upload_bytes=MAX_UPLOAD + 1024**2
    )
    for exc_type in (Error, policies.AccessDenied, RequestValidationError, ValidationError):
        app.add_exception_handler(exc_type, handle_error)
    for package in ("desensitize", "audit", "sandbox"):
        module = __import__(f"{package}.exceptions", fromlist=["Error"])
        app.add_exception_handler(module.Error, handle_error)
    return app


async def _expire_periodically(portal: Portal) -> None:
    while True:
        try:
            await asyncio.to_thread(grants.expire_due, portal)
            await asyncio.to_thread(destruction.destroy_expired, portal)
        except Exception:  # keep the loop alive; the failure is logged
            log.exception("expiring grants failed")
        try:
            await asyncio.to_thread(harvest.harvest_due, portal)
        except Exception:
            log.exception("harvesting due sources failed")
        await asyncio.sleep(EXPIRY_INTERVAL)


def create_app_from_environment() -> FastAPI:
    """The app as the hub runs it (``uvicorn --factory``)."""
    settings = get_settings()
    portal = open_portal(settings)
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/portal/")
    sso = HubSSO.from_environment(Signer(cookie_secret(settings)), prefix)
    grants.on_grant_stopped.append(stop_workspaces_through_hub)
    return create_app(portal, sso, prefix=prefix)


def stop_workspaces_through_hub(grant: Grant) -> None:
    """A grant that is no longer usable has its workspace stopped at once, for every member."""
    from sandbox.lifecycle import stop_workspace

    api_url = os.environ.get("JUPYTERHUB_API_URL", "")
    token = os.environ.get("JUPYTERHUB_API_TOKEN", "")
    if not api_url or not token:
        return
    for member in grant.member_names:
        try:
            stop_workspace(api_url, token, member, grant.id, timeout=30)
        except Exception:
            log.exception("could not stop the workspace of %s for grant %s", member, grant.id)
