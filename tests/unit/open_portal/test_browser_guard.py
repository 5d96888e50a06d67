"""Unsafe requests with the portal's cookie from another origin are refused; no framing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from factories import portal_at
from fastapi.testclient import TestClient
from jupyterhub.services.auth import HubOAuth

from open_portal.app import create_app
from open_portal.auth import TOKEN_COOKIE, HubSSO, Signer

PREFIX = "/services/portal"
HOST = "127.0.0.1:8000"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with portal_at(tmp_path / "data", f"sqlite:///{tmp_path / 'p.sqlite'}") as portal:
        hub_auth = HubOAuth(
            api_token="not-used", oauth_client_id="service-portal", api_url="http://127.0.0.1:9/"
        )
        sso = HubSSO(hub_auth, Signer(b"s" * 32), PREFIX + "/")
        app = create_app(portal, sso, prefix=PREFIX)
        with TestClient(app, base_url=f"http://{HOST}", follow_redirects=False) as c:
            yield c


FOREIGN = [
    {"Sec-Fetch-Site": "same-site"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Origin": "http://researcher.localhost:8000"},
    {"Origin": "null"},
    {"Origin": "http://127.0.0.1:8001"},
    {"Sec-Fetch-Site": "same-site", "Origin": f"http://{HOST}"},
]
UNSAFE = [
    ("POST", "/api/applications?submit=true"),
    ("POST", "/api/applications/1/approve"),
    ("POST", "/api/grants/g0001/suspend"),
    ("POST", "/applications"),
    ("POST", "/api/3/action/package_search"),
    ("PUT", "/api/anything"),
    ("DELETE", "/api/anything"),
    ("PATCH", "/api/anything"),
]


@pytest.mark.parametrize("headers", FOREIGN)
@pytest.mark.parametrize(("method", "path"), UNSAFE)
def test_cookie_requests_from_another_origin_are_refused(
    client: TestClient, headers: dict[str, str], method: str, path: str
) -> None:
    client.cookies.set(TOKEN_COOKIE, "a-token-the-hub-would-accept")
    response = client.request(method, PREFIX + path, headers=headers)
    assert response.status_code == 403
    assert "another site" in response.text or "其他网站" in response.text


def test_the_refusal_speaks_both_languages(client: TestClient) -> None:
    client.cookies.set(TOKEN_COOKIE, "x")
    headers = {"Sec-Fetch-Site": "cross-site"}
    en = client.post(f"{PREFIX}/api/applications", headers={**headers, "Accept-Language": "en"})
    zh = client.post(f"{PREFIX}/api/applications", headers={**headers, "Accept-Language": "zh"})
    assert "another site" in en.json()["error"]
    assert "其他网站" in zh.json()["error"]
    page = client.post(f"{PREFIX}/applications", headers=headers)
    assert page.status_code == 403 and "text/html" in page.headers["content-type"]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "http://researcher.localhost:8000"},
    ],
)
def test_requests_without_the_cookie_pass(client: TestClient, headers: dict[str, str]) -> None:
    """Anonymous programs (the CKAN API) may post from anywhere: no cookie, nothing to abuse."""
    response = client.post(f"{PREFIX}/api/3/action/package_search", headers=headers, json={})
    assert response.status_code == 200


def test_the_portals_own_pages_may_post(client: TestClient) -> None:
    """Same-origin posts pass the guard (anonymous here: the route then asks for a login)."""
    for headers in ({"Sec-Fetch-Site": "same-origin", "Origin": f"http://{HOST}"}, {}):
        response = client.post(f"{PREFIX}/api/3/action/package_search", headers=headers, json={})
        assert response.status_code == 200


@pytest.mark.parametrize("path", ["/", "/datasets", "/api/3/action/package_list", "/login"])
def test_no_page_of_the_portal_may_be_framed_by_another_origin(
    client: TestClient, path: str
) -> None:
    response = client.get(PREFIX + path)
    assert response.headers["x-frame-options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in response.headers["content-security-policy"]


@pytest.mark.parametrize(("public_url", "secure"), [("", False), ("https://data.example.cn", True)])
def test_portal_cookies_are_host_only_and_secure_over_https(
    tmp_path: Path, public_url: str, secure: bool
) -> None:
    with portal_at(tmp_path / "data", f"sqlite:///{tmp_path / 'p.sqlite'}") as portal:
        portal.settings.public_url = public_url
        hub_auth = HubOAuth(
            api_token="not-used",
            oauth_client_id="service-portal",
            api_url="http://127.0.0.1:9/",
            oauth_authorization_url="/hub/api/oauth2/authorize",
            oauth_redirect_uri=f"{public_url or 'http://127.0.0.1:8000'}{PREFIX}/oauth_callback",
        )
        sso = HubSSO(hub_auth, Signer(b"s" * 32), PREFIX + "/")
        with TestClient(create_app(portal, sso, prefix=PREFIX), follow_redirects=False) as c:
            response = c.get(f"{PREFIX}/login")
    assert response.status_code == 302
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith("pds-oauth-state=") and "domain=" not in cookie
    assert f"path={PREFIX}/" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert ("secure" in cookie.split("; ")) is secure
