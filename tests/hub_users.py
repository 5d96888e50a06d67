"""The portal's app in-process, with callers the hub has already identified.

The portal asks the hub who a token belongs to through ``HubOAuth.user_for_token``, which keeps
the hub's answers in its cache. Filling that cache with the hub's answer for one token per demo
account lets the real ``HubOAuth`` and ``HubSSO`` code identify callers without a hub running.
"""

from __future__ import annotations

import hashlib

from fastapi import FastAPI
from jupyterhub.services.auth import HubOAuth

from open_portal.app import create_app
from open_portal.auth import HubSSO, Signer
from open_portal.service.context import Portal

PREFIX = "/services/portal"
SECRET = b"s" * 32


def token_of(user: str) -> str:
    return f"token-of-{user}"


def auth_header(user: str) -> dict[str, str]:
    return {"Authorization": f"token {token_of(user)}"}


def hub_oauth(users: list[str]) -> HubOAuth:
    """A ``HubOAuth`` whose cache holds the hub's answer for each user's token."""
    hub_auth = HubOAuth(
        api_token="not-used",
        oauth_client_id="service-portal",
        api_url="http://127.0.0.1:9/hub/api",
        cache_max_age=24 * 3600,
        access_scopes={"access:services!service=portal"},
    )
    for user in users:
        digest = hashlib.sha256(token_of(user).encode()).hexdigest()
        hub_auth.cache[f"token::{digest}"] = {
            "kind": "user",
            "name": user,
            "scopes": sorted(hub_auth.access_scopes),
            "server": "",
        }
    return hub_auth


def app_for(portal: Portal, users: list[str]) -> FastAPI:
    """The portal app as served under the hub prefix, knowing ``users``' tokens."""
    sso = HubSSO(hub_oauth(users), Signer(SECRET), PREFIX + "/")
    return create_app(portal, sso, prefix=PREFIX)
