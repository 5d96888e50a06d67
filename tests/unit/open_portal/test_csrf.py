"""CSRF: every state change by a cookie-authenticated browser carries the page's token.

Forms send it as the ``_csrf`` field, API calls as the ``X-CSRF-Token`` header; clients that
authenticate with a token header need none.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from factories import add_dataset, portal_at
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hub_users import PREFIX, SECRET, app_for, auth_header, token_of

from open_portal.auth import TOKEN_COOKIE, Signer
from open_portal.models import Level
from open_portal.routes import ROUTERS
from open_portal.web import CSRF_HEADER, check_csrf

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def _unsafe_routes() -> list[APIRoute]:
    return [
        r
        for router in ROUTERS
        for r in router.routes
        if isinstance(r, APIRoute) and r.methods & UNSAFE
    ]


def test_every_state_changing_route_is_protected() -> None:
    routes = _unsafe_routes()
    assert len(routes) > 15
    forms = [r for r in routes if check_csrf in [d.call for d in r.dependant.dependencies]]
    api = [r for r in routes if r.path.startswith("/api/")]
    assert {r.path for r in routes} == {r.path for r in forms} | {r.path for r in api}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with portal_at(tmp_path / "data", f"sqlite:///{tmp_path / 'p.sqlite'}") as portal:
        add_dataset(portal, "tickets", Level.L2)
        app = app_for(portal, ["researcher", "officer"])
        with TestClient(app, follow_redirects=False, raise_server_exceptions=False) as c:
            yield c


def _api_urls() -> list[str]:
    urls = []
    for route in _unsafe_routes():
        if route.path.startswith("/api/"):
            url = route.path.replace("{grant_id}", "g0001").replace("{action}", "submit")
            for name in ("request_id", "file_id", "application_id"):
                url = url.replace("{" + name + "}", "1")
            urls.append(PREFIX + url)
    return urls


@pytest.mark.parametrize("url", _api_urls())
def test_cookie_api_calls_need_the_header(client: TestClient, url: str) -> None:
    client.cookies.set(TOKEN_COOKIE, token_of("officer"))
    refused = client.post(url, json={}, headers={"accept-language": "en"})
    assert refused.status_code == 403
    assert CSRF_HEADER in refused.json()["error"]
    token = Signer(SECRET).csrf_token(token_of("officer"))
    accepted = client.post(url, json={}, headers={CSRF_HEADER: token, "accept-language": "en"})
    assert CSRF_HEADER not in accepted.text
    client.cookies.clear()
    by_token = client.post(
        url, json={}, headers={**auth_header("officer"), "accept-language": "en"}
    )
    assert CSRF_HEADER not in by_token.text


def test_a_forged_cookie_api_call_changes_nothing(client: TestClient) -> None:
    client.cookies.set(TOKEN_COOKIE, token_of("researcher"))
    body = {
        "kind": "person",
        "dataset_ids": ["tickets"],
        "purpose": "x",
        "level": "L2",
        "starts_on": "2030-01-01",
        "ends_on": "2030-02-01",
    }
    assert client.post(PREFIX + "/api/applications", json=body).status_code == 403
    client.cookies.clear()
    assert client.get(PREFIX + "/api/applications", headers=auth_header("researcher")).json() == []
