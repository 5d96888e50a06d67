"""What the portal takes from pages of other origins: nothing done with its cookie, no framing.

Workspaces live on origins of their own (ADR 0007). Where a workspace domain is same-site with the
portal (a sibling under one registrable domain), the browser still sends the portal's
``SameSite=Lax`` cookie with a workspace page's requests; this guard refuses every unsafe request
that carries the portal's cookie and comes from another origin, and forbids framing the portal.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from open_portal import i18n
from open_portal.auth import TOKEN_COOKIE
from open_portal.exceptions import Forbidden

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FRAMING_HEADERS = {
    "Content-Security-Policy": "frame-ancestors 'self'",
    "X-Frame-Options": "SAMEORIGIN",
}


def from_another_origin(request: Request) -> bool:
    """Whether the browser says a page of another origin sent this request."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return True
    origin = request.headers.get("origin")
    if origin is None:
        return False
    return (
        origin == "null"
        or urlsplit(origin).netloc.lower() != request.headers.get("host", "").lower()
    )


def cookie_sent_from_elsewhere(request: Request) -> bool:
    """An unsafe request authenticated only by the portal's cookie, sent by another origin."""
    return (
        request.method not in SAFE_METHODS
        and TOKEN_COOKIE in request.cookies
        and "authorization" not in request.headers
        and from_another_origin(request)
    )


def refuse(request: Request) -> Response:
    from open_portal.app import wants_json
    from open_portal.web import language, render

    refused = Forbidden(
        "this request came from another site; open the portal and do it there",
        zh="该请求来自其他网站，请在门户页面中操作",
    )
    message = i18n.message(refused, language(request))
    if wants_json(request):
        return JSONResponse({"error": message, "status": 403}, status_code=403)
    return render(request, "error.html", status_code=403, message=message, status=403)


async def guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """HTTP middleware: refuse cross-origin use of the cookie; no page of the portal in a frame."""
    if cookie_sent_from_elsewhere(request):
        response = refuse(request)
    else:
        response = await call_next(request)
    for name, value in FRAMING_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
