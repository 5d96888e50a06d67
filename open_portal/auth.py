"""Single sign-on through JupyterHub OAuth (HubOAuth), for pages and for API tokens.

Browsers log in through the hub's OAuth flow and keep the issued token in an HttpOnly cookie
scoped to the portal's prefix. API clients send ``Authorization: token <hub API token>``. Either
way the hub says who the token belongs to and whether it may access this service. A token sent
in the header that the hub does not accept for the portal is refused, not taken as anonymous.

A workspace sends ``Authorization: workspace <credential>`` instead: a credential bound to one
grant and one member (``open_portal.service.workspace_credentials``), which
``open_portal.web.workspace_boundary`` accepts only on that grant's workspace API.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from jupyterhub.services.auth import HubOAuth

TOKEN_COOKIE = "pds-portal-token"
STATE_COOKIE = "pds-oauth-state"
STATE_MAX_AGE = 600
WORKSPACE_SCHEME = "workspace"
REFUSED = "refused"


@dataclass(frozen=True)
class Identity:
    """Who is calling: a hub user name (empty when anonymous) and how they authenticated."""

    name: str = ""
    via: str = "anonymous"  # "cookie", "token", "workspace", "refused" or "anonymous"
    token: str = field(default="", repr=False)
    server: str = ""
    grant: str = ""  # the only grant a workspace credential speaks for

    @classmethod
    def refused(cls) -> Identity:
        """A caller who presented a credential the portal does not accept."""
        return cls(via=REFUSED)

    @property
    def is_anonymous(self) -> bool:
        return not self.name


class Signer:
    """HMAC-SHA256 signatures for cookies and CSRF tokens."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def sign(self, payload: dict[str, Any]) -> str:
        body = base64.urlsafe_b64encode(
            json.dumps(payload, separators=(",", ":")).encode()
        ).decode()
        mac = hmac.new(self._secret, body.encode(), hashlib.sha256).hexdigest()
        return f"{body}.{mac}"

    def unsign(self, value: str, *, max_age: float) -> dict[str, Any] | None:
        body, _, mac = value.rpartition(".")
        expected = hmac.new(self._secret, body.encode(), hashlib.sha256).hexdigest()
        if not body or not hmac.compare_digest(mac, expected):
            return None
        payload: dict[str, Any] = json.loads(base64.urlsafe_b64decode(body))
        if time.time() - float(payload.get("t", 0)) > max_age:
            return None
        return payload

    def csrf_token(self, token: str) -> str:
        return hmac.new(self._secret, b"csrf:" + token.encode(), hashlib.sha256).hexdigest()[:40]


class HubSSO:
    """The portal's side of the hub's OAuth: login redirects, callback, token checks."""

    def __init__(self, hub_auth: HubOAuth, signer: Signer, prefix: str) -> None:
        self.hub_auth = hub_auth
        self.signer = signer
        self.prefix = prefix.rstrip("/") + "/"

    @classmethod
    def from_environment(cls, signer: Signer, prefix: str) -> HubSSO:
        """Configured from the environment the hub gives a managed service."""
        return cls(HubOAuth(cache_max_age=60), signer, prefix)

    def login_redirect(self, next_url: str) -> tuple[str, str]:
        """The hub authorize URL and the signed state cookie to set."""
        verifier, challenge, method = self.hub_auth.generate_pkce_code_challenge()
        state = secrets.token_urlsafe(16)
        cookie = self.signer.sign({"s": state, "v": verifier, "n": next_url, "t": time.time()})
        query = urlencode(
            {
                "client_id": self.hub_auth.oauth_client_id,
                "redirect_uri": self.hub_auth.oauth_redirect_uri,
                "response_type": "code",
                "state": state,
                "code_challenge": challenge,
                "code_challenge_method": method,
            }
        )
        return f"{self.hub_auth.oauth_authorization_url}?{query}", cookie

    async def finish_login(self, code: str, state: str, state_cookie: str) -> tuple[str, str]:
        """Exchange the code for a token; returns (token, next URL)."""
        saved = self.signer.unsign(state_cookie, max_age=STATE_MAX_AGE)
        if saved is None or not hmac.compare_digest(str(saved.get("s", "")), state):
            raise PermissionError("the login state does not match; start the login again")
        token = await self.hub_auth.token_for_code(code, code_verifier=saved["v"], sync=False)
        next_url = str(saved.get("n") or self.prefix)
        if not next_url.startswith(self.prefix):
            next_url = self.prefix
        return str(token), next_url

    async def identify(self, request: Request) -> Identity:
        """The caller of this request; anonymous when there is no valid token."""
        header = request.headers.get("authorization", "")
        token, via = "", "anonymous"
        match = self.hub_auth.auth_header_pat.match(header)
        if match:
            token, via = match.group(1).strip(), "token"
        elif request.cookies.get(TOKEN_COOKIE):
            token, via = request.cookies[TOKEN_COOKIE], "cookie"
        if not token:
            return Identity()
        # a bad header token is refused; a stale cookie is only a logged-out browser
        unknown = Identity.refused() if via == "token" else Identity()
        model = await self.hub_auth.user_for_token(token, sync=False)
        if not model or model.get("kind", "user") != "user":
            return unknown
        if not self.hub_auth.check_scopes(self.hub_auth.access_scopes, model):
            return unknown
        return Identity(
            name=str(model["name"]), via=via, token=token, server=str(model.get("server") or "")
        )
