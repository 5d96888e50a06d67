"""Login through the hub's OAuth, its callback, and logout."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse

from open_portal.auth import STATE_COOKIE, TOKEN_COOKIE, Identity
from open_portal.exceptions import Forbidden
from open_portal.schemas import LINE_MAX
from open_portal.web import Guard, get_sso

router = APIRouter()
AnyoneDep = Annotated[Identity, Depends(Guard(login=False))]


@router.get("/login")
def login(
    request: Request, user: AnyoneDep, next: Annotated[str, Query(max_length=LINE_MAX)] = ""
) -> RedirectResponse:
    sso = get_sso(request)
    url, state_cookie = sso.login_redirect(next or sso.prefix)
    response = RedirectResponse(url, status_code=302)
    response.set_cookie(
        STATE_COOKIE,
        state_cookie,
        max_age=600,
        httponly=True,
        samesite="lax",
        path=sso.prefix,
        secure=request.app.state.secure_cookies,
    )
    return response


@router.get("/oauth_callback")
async def oauth_callback(
    request: Request,
    user: AnyoneDep,
    code: Annotated[str, Query(max_length=LINE_MAX)] = "",
    state: Annotated[str, Query(max_length=LINE_MAX)] = "",
) -> RedirectResponse:
    sso = get_sso(request)
    try:
        token, next_url = await sso.finish_login(code, state, request.cookies.get(STATE_COOKIE, ""))
    except PermissionError as exc:
        raise Forbidden(str(exc), zh="登录状态不匹配，请重新登录") from None
    response = RedirectResponse(next_url, status_code=302)
    response.set_cookie(
        TOKEN_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        path=sso.prefix,
        secure=request.app.state.secure_cookies,
    )
    response.delete_cookie(STATE_COOKIE, path=sso.prefix)
    return response


@router.get("/logout")
def logout(request: Request, user: AnyoneDep) -> RedirectResponse:
    sso = get_sso(request)
    response = RedirectResponse("/hub/logout", status_code=302)
    response.delete_cookie(TOKEN_COOKIE, path=sso.prefix)
    return response
