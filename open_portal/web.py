"""What every route shares: the portal, the caller, the policy guard, page rendering."""

from __future__ import annotations

import hmac
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

import policies
from open_portal.auth import HubSSO, Identity
from open_portal.exceptions import Error, Forbidden
from open_portal.i18n import LANG_COOKIE, pick_language, translator
from open_portal.service.context import Portal
from policies import Resource, Subject

templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))


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


async def identify(request: Request) -> Identity:
    cached = getattr(request.state, "identity", None)
    if cached is not None:
        return cached
    identity = await get_sso(request).identify(request)
    request.state.identity = identity
    return identity


def language(request: Request) -> str:
    """Chinese unless the user switched; API clients may also ask by ``Accept-Language``."""
    api = "/api/" in request.url.path
    return pick_language(
        request.query_params.get("lang"),
        request.cookies.get(LANG_COOKIE),
        request.headers.get("accept-language") if api else None,
    )


class Guard:
    """The policy dependency every route declares.

    ``Guard("read", "home")`` checks the policy for the action on the resource kind before the
    route runs. Where the decision needs the resource's attributes (whose application, which
    grant), ``per_resource=True`` says the service layer decides with ``policies.check_can`` on
    the loaded resource; the guard still identifies the caller and requires a login if asked.
    """

    def __init__(
        self, action: str, kind: str, *, login: bool = True, per_resource: bool = False
    ) -> None:
        self.action, self.kind, self.login, self.per_resource = action, kind, login, per_resource

    async def __call__(self, request: Request) -> Identity:
        identity = await identify(request)
        if self.login and identity.is_anonymous:
            raise LoginRequired()
        if not self.per_resource:
            policies.check_can(Subject(identity.name), self.action, Resource(self.kind))
        request.state.guard = self
        return identity

    def __repr__(self) -> str:
        return f"Guard({self.action!r}, {self.kind!r})"


PortalDep = Annotated[Portal, Depends(get_portal)]
LangDep = Annotated[str, Depends(language)]


def session_of(portal: Portal) -> Session:
    return portal.sessions()


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render a page in the caller's language with the layout's shared context."""
    from open_portal.service import notifications

    lang = language(request)
    identity: Identity = getattr(request.state, "identity", None) or Identity()
    portal = get_portal(request)
    roles: list[str] = []
    unread = 0
    reviews = 0
    if not identity.is_anonymous:
        roles = portal.policy.all_roles(identity.name)
        with portal.sessions() as session:
            unread = notifications.unread_count(session, identity.name)
            reviews = review_badge(portal, session, identity.name, roles)
    csrf = get_sso(request).signer.csrf_token(identity.token) if identity.via == "cookie" else ""
    base = request.app.state.prefix
    return templates.TemplateResponse(
        request,
        name,
        {
            "t": translator(lang),
            "lang": lang,
            "user": identity,
            "roles": roles,
            "unread": unread,
            "review_count": reviews,
            "csrf": csrf,
            "base": base,
            **context,
        },
        status_code=status_code,
    )


def review_badge(portal: Portal, session: Session, user: str, roles: list[str]) -> int:
    if not {"owner", "officer"} & set(roles):
        return 0
    from open_portal.service import applications, exports

    waiting = len(applications.review_queue(portal, session, actor=user))
    if "officer" in roles:
        waiting += len(exports.review_queue(portal, session, actor=user))
    return waiting


async def check_csrf(request: Request, csrf: Annotated[str, Form(alias="_csrf")] = "") -> None:
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
