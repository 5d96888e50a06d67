"""What every route shares: the portal, the caller, the permission guard, page rendering."""

from __future__ import annotations

import asyncio
import hmac
import re
from collections.abc import Callable, Iterable
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, params
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from markupsafe import Markup
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Receive, Scope, Send

from open_portal import i18n, labels, permissions
from open_portal.auth import REFUSED, WORKSPACE_SCHEME, HubSSO, Identity
from open_portal.exceptions import Error, Forbidden
from open_portal.i18n import LANG_COOKIE, pick_language, translator
from open_portal.service import workspace_credentials
from open_portal.service.context import Portal
from policies import AccessDenied, Policy

templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))


@pass_context
def _when(context: Any, value: datetime | str | None, fmt: str = "%Y-%m-%d %H:%M") -> Markup:
    """A stored time (or its ISO text) as the user reads it: in their time zone, zone named."""
    if not value:
        return Markup("—")
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    local = i18n.local_time(value, context["zone"])
    return Markup('{} <abbr translate="no" title="{}">{}</abbr>').format(
        local.strftime(fmt), context["zone"].key, local.tzname()
    )


@pass_context
def _day(context: Any, value: datetime | None) -> str:
    """The date of a stored time in the user's time zone."""
    return "—" if value is None else i18n.local_time(value, context["zone"]).strftime("%Y-%m-%d")


@pass_context
def _until(context: Any, value: datetime) -> Markup:
    """When a term ending at ``value`` ends, as the user reads it: at midnight it is 24:00 of
    the term's last day (the application's end date), never 00:00 of the next one."""
    local = i18n.local_time(value, context["zone"])
    shown = f"{local:%Y-%m-%d %H:%M}"
    if local.time() == time(0, 0):
        shown = f"{(local - timedelta(days=1)):%Y-%m-%d} 24:00"
    return Markup('{} <abbr translate="no" title="{}">{}</abbr>').format(
        shown, context["zone"].key, local.tzname()
    )


templates.env.filters["when"] = _when
templates.env.filters["day"] = _day
templates.env.filters["until"] = _until
templates.env.globals.update(
    label=labels.label,
    event_label=labels.event,
    check_label=labels.check,
    role_label=labels.role,
    step_label=labels.step,
    term=labels.term,
    type_label=lambda kind: labels.COLUMN_TYPES.get(kind, kind),
)
WORKSPACE_API = "/api/workspace/grants"
MAX_BODY_BYTES = 256 * 1024  # every limited field of any form or JSON body fits many times over
DRAIN_BYTES = 16 * 1024 * 1024  # a refused body is read up to this, then the connection drops


class LoginRequired(Error):
    """The route needs a logged-in user."""

    status_code = 401

    def __init__(self) -> None:
        super().__init__("log in to continue", zh="请先登录")


def get_portal(request: Request) -> Portal:
    portal: Portal = request.app.state.portal
    return portal


def get_sso(request: Request) -> HubSSO:
    sso: HubSSO = request.app.state.sso
    return sso


class CredentialRefused(Error):
    """A credential was presented that the portal does not accept (unknown, revoked, no scope)."""

    status_code = 401

    def __init__(self) -> None:
        super().__init__(
            "the credential sent is not valid for the portal (unknown, expired, revoked, or "
            "without access to the portal)",
            zh="所提供的凭证对门户无效（未知、已过期、已撤销或无权访问门户）",
        )


class WorkspaceOnly(Error):
    """A workspace credential used outside its grant's workspace API."""

    status_code = 403

    def __init__(self, grant: str) -> None:
        super().__init__(
            f"a workspace credential may be used only on the workspace API of its own grant "
            f"({grant}): /api/workspace/grants/{grant}/...",
            zh=f"工作区凭证只能用于其所属授权（{grant}）的工作区接口：/api/workspace/grants/{grant}/...",
        )


async def identify(request: Request) -> Identity:
    """Who calls: a hub user (cookie or token), a workspace credential, refused, or anonymous."""
    cached = getattr(request.state, "identity", None)
    if cached is not None:
        return cached
    header = request.headers.get("authorization", "")
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() == WORKSPACE_SCHEME:
        identity = await asyncio.to_thread(_workspace_identity, get_portal(request), value.strip())
    else:
        identity = await get_sso(request).identify(request)
        if header and identity.is_anonymous:
            identity = Identity.refused()  # a header that is no portal token is not anonymous
    request.state.identity = identity
    return identity


def _workspace_identity(portal: Portal, token: str) -> Identity:
    holder = workspace_credentials.holder_of(portal, token)
    if holder is None:
        return Identity.refused()
    return Identity(name=holder.user, via=WORKSPACE_SCHEME, grant=holder.grant_id)


class BodyTooLarge(Error):
    status_code = 413

    def __init__(self, limit: int = 0) -> None:
        kib = (limit or MAX_BODY_BYTES) // 1024
        super().__init__(
            f"the request body is larger than {kib} KiB; shorten the text fields",
            zh=f"请求内容超过 {kib} KiB，请缩短文本字段",
        )


class LengthRequired(Error):
    status_code = 411

    def __init__(self) -> None:
        super().__init__(
            "send the request body with a Content-Length", zh="请求须带 Content-Length 发送"
        )


def upload_paths(prefix: str, routers: Iterable[APIRouter]) -> list[re.Pattern[str]]:
    """The paths of the routes that take an uploaded file (publishing a dataset or a version)."""
    found = []
    for router in routers:
        for route in router.routes:
            fields = getattr(getattr(route, "dependant", None), "body_params", [])
            if any(isinstance(f.field_info, params.File) for f in fields):
                template = re.escape(prefix + getattr(route, "path_format", ""))
                found.append(re.compile(re.sub(r"\\{\w+\\}", "[^/]+", template)))
    return found


class BodyLimit:
    """ASGI middleware capping request bodies before any route reads them.

    A body over ``MAX_BODY_BYTES`` (over ``upload_bytes`` on a file upload route) is read to its
    end and answered 413 with a message in the caller's language, so that no route parses it,
    nothing of it is stored, and the client gets the answer instead of a reset connection.
    """

    def __init__(self, app: ASGIApp, *, uploads: list[re.Pattern[str]], upload_bytes: int) -> None:
        self.app, self.uploads, self.upload_bytes = app, uploads, upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = any(p.fullmatch(scope["path"]) for p in self.uploads)
        limit = self.upload_bytes if upload else MAX_BODY_BYTES
        headers = dict(scope["headers"])
        length = headers.get(b"content-length", b"").decode("latin-1")
        error: Error | None = None
        if length and (not length.isdigit() or int(length) > limit):
            error = BodyTooLarge(limit)
        elif not length and headers.get(b"transfer-encoding") and not upload:
            error = LengthRequired()
        if error is None:
            await self.app(scope, receive, send)
            return
        drained, more = 0, True
        while more and drained <= DRAIN_BYTES:
            message = await receive()
            drained += len(message.get("body", b""))
            more = message["type"] == "http.request" and message.get("more_body", False)
        request = Request(scope)
        response = JSONResponse(
            {"error": i18n.message(error, language(request)), "status": error.status_code},
            status_code=error.status_code,
        )
        await response(scope, receive, send)


def is_workspace_api(request: Request, grant_id: str) -> bool:
    """Whether the request is for the workspace API of ``grant_id``: its path is under
    ``/api/workspace/grants/<grant_id>`` and the route's ``grant_id`` parameter names it."""
    base = f"{request.app.state.prefix}{WORKSPACE_API}/{grant_id}"
    path = request.url.path
    return request.path_params.get("grant_id") == grant_id and (
        path == base or path.startswith(base + "/")
    )


async def workspace_boundary(request: Request) -> None:
    """The app-wide dependency deciding, before any route runs, who may call at all.

    A credential the portal does not accept is refused (401), never taken as anonymous. A
    workspace credential is accepted only on the workspace API (``/api/workspace/grants/{id}``
    and below) of the grant it was issued for, and refused (403) on every other route.
    """
    identity = await identify(request)
    if identity.via == REFUSED:
        raise CredentialRefused()
    if identity.via == WORKSPACE_SCHEME and not is_workspace_api(request, identity.grant):
        raise WorkspaceOnly(identity.grant)


def language(request: Request) -> str:
    """Chinese unless the user switched; API clients may also ask by ``Accept-Language``."""
    api = "/api/" in request.url.path
    return pick_language(
        request.query_params.get("lang"),
        request.cookies.get(LANG_COOKIE),
        request.headers.get("accept-language") if api else None,
    )


class Guard:
    """The dependency every route declares: who calls, and the route's own permission if any.

    ``Guard(permissions.check_can_read_audit)`` runs that check of ``open_portal.permissions``
    on the portal's policy before the route. ``Guard()`` identifies the caller and requires a
    login (``login=False``: anyone); the decision needs the resource (whose application, which
    grant), so the service layer makes it with ``open_portal.permissions`` once it is loaded.
    """

    def __init__(
        self, check: Callable[[Policy, str], None] | None = None, *, login: bool = True
    ) -> None:
        self.check, self.login = check, login

    async def __call__(self, request: Request) -> Identity:
        identity = await identify(request)
        if self.login and identity.is_anonymous:
            raise LoginRequired()
        if self.check is not None:
            self.check(get_portal(request).policy, identity.name)
        request.state.guard = self
        return identity

    def __repr__(self) -> str:
        name = self.check.__name__ if self.check else "resource checked by the service"
        return f"Guard({name}, login={self.login})"


PortalDep = Annotated[Portal, Depends(get_portal)]
LangDep = Annotated[str, Depends(language)]


def session_of(portal: Portal) -> Session:
    return portal.sessions()


def status_of(exc: Exception) -> int:
    """The HTTP status of a user-facing error."""
    if isinstance(exc, AccessDenied):
        return 403
    if isinstance(exc, Error):
        return exc.status_code
    return 422


def form_error(exc: Exception, lang: str) -> str:
    """A user-facing error as one line in the user's language (validation errors by field)."""
    errors = getattr(exc, "errors", None)
    if callable(errors) and not isinstance(exc, Error):
        text = "; ".join(_describe(e) for e in errors())
        return text if lang == "en" else f"输入有误：{text}"
    return i18n.message(exc, lang)


def _describe(error: Any) -> str:
    where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query", "form"))
    msg = str(error.get("msg", "")).removeprefix("Value error, ")
    return f"{where}: {msg}" if where else msg


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render a page in the caller's language with the layout's shared context."""
    from open_portal.service import queues

    lang = language(request)
    identity: Identity = getattr(request.state, "identity", None) or Identity()
    portal = get_portal(request)
    roles: list[str] = []
    unread = 0
    reviews = 0
    nav = permissions.nav_rights(portal.policy, identity.name)
    if not identity.is_anonymous:
        roles = portal.policy.all_roles(identity.name)
        with portal.sessions() as session:
            unread = len(queues.unread(session, actor=identity.name))
            if nav.reviews:
                reviews = len(queues.reviews(portal, session, actor=identity.name))
    csrf = get_sso(request).signer.csrf_token(identity.token) if identity.via == "cookie" else ""
    base = request.app.state.prefix
    return templates.TemplateResponse(
        request,
        name,
        {
            "t": translator(lang),
            "lang": lang,
            "zone": i18n.pick_zone(request.cookies.get(i18n.ZONE_COOKIE)),
            "user": identity,
            "roles": roles,
            "nav": nav,
            "unread": unread,
            "review_count": reviews,
            "csrf": csrf,
            "base": base,
            **context,
        },
        status_code=status_code,
    )


async def check_csrf(
    request: Request, csrf: Annotated[str, Form(alias="_csrf", max_length=128)] = ""
) -> None:
    """Cookie-authenticated form posts must carry the CSRF token of the page."""
    identity = await identify(request)
    if identity.via != "cookie":
        return
    expected = get_sso(request).signer.csrf_token(identity.token)
    if not hmac.compare_digest(csrf, expected):
        raise Forbidden(
            "the form has expired; reload the page and try again", zh="表单已过期，请刷新页面后重试"
        )


CsrfDep = Depends(check_csrf)
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def check_api_csrf(request: Request) -> None:
    """Cookie-authenticated API calls that change state carry the page's CSRF token in the
    ``X-CSRF-Token`` header (token-authenticated clients need none: no browser sends a token)."""
    if request.method in SAFE_METHODS or "/api/" not in request.url.path:
        return
    identity = await identify(request)
    if identity.via != "cookie":
        return
    expected = get_sso(request).signer.csrf_token(identity.token)
    if not hmac.compare_digest(request.headers.get(CSRF_HEADER, ""), expected):
        raise Forbidden(
            f"a cookie-authenticated API call needs the page's {CSRF_HEADER} header",
            zh=f"使用 Cookie 登录调用接口时须携带页面的 {CSRF_HEADER} 请求头",
        )
