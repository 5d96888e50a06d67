"""The portal's HTTP surface without a login: public catalog, CKAN API, DCAT, redirects to login."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from factories import add_dataset, portal_at
from fastapi.testclient import TestClient
from jupyterhub.services.auth import HubOAuth

from open_portal.app import create_app
from open_portal.auth import HubSSO, Signer
from open_portal.models import Level

PREFIX = "/services/portal"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with portal_at(tmp_path / "data", f"sqlite:///{tmp_path / 'p.sqlite'}") as portal:
        add_dataset(portal, "hotline-tickets", Level.L2, publisher="hotline")
        add_dataset(portal, "enterprise-registry", Level.L1, publisher="market")
        add_dataset(portal, "insurance", Level.L3, publisher="hrss")
        add_dataset(portal, "violations", Level.L4, publisher="traffic")
        # The hub is not running: anonymous requests never ask it anything.
        hub_auth = HubOAuth(
            api_token="not-used",
            oauth_client_id="service-portal",
            api_url="http://127.0.0.1:9/hub/api",
        )
        sso = HubSSO(hub_auth, Signer(b"s" * 32), PREFIX + "/")
        with TestClient(create_app(portal, sso, prefix=PREFIX), follow_redirects=False) as c:
            yield c


def action(client: TestClient, name: str, **params: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    response = client.get(f"{PREFIX}/api/3/action/{name}", params=params)
    return response.status_code, response.json()


def test_package_search_lists_what_the_public_may_see(client: TestClient) -> None:
    status, body = action(client, "package_search", rows="10")
    assert status == 200
    assert set(body) == {"help", "success", "result"}
    assert body["success"] is True
    names = {p["name"] for p in body["result"]["results"]}
    assert names == {"hotline-tickets", "enterprise-registry", "insurance"}
    assert body["result"]["count"] == 3


def test_package_search_fq_facets_paging_sort(client: TestClient) -> None:
    status, body = action(
        client,
        "package_search",
        fq="level:L2 organization:hotline",
        **{"facet.field": '["organization","level"]'},
    )
    assert status == 200
    assert [p["name"] for p in body["result"]["results"]] == ["hotline-tickets"]
    assert body["result"]["facets"]["organization"] == {"hotline": 1}
    status, body = action(client, "package_search", **{"facet.field": '["level"]'})
    assert body["result"]["facets"]["level"] == {"L1": 1, "L2": 1, "L3": 1}
    items = body["result"]["search_facets"]["level"]["items"]
    assert sorted(i["name"] for i in items) == ["L1", "L2", "L3"]
    _, page1 = action(client, "package_search", rows="2", start="0", sort="name asc")
    _, page2 = action(client, "package_search", rows="2", start="2", sort="name asc")
    assert [p["name"] for p in page1["result"]["results"]] == [
        "enterprise-registry",
        "hotline-tickets",
    ]
    assert [p["name"] for p in page2["result"]["results"]] == ["insurance"]
    assert page1["result"]["count"] == 3
    _, found = action(client, "package_search", q="Dataset insurance")
    assert [p["name"] for p in found["result"]["results"]] == ["insurance"]


@pytest.mark.parametrize(
    "params",
    [
        {"fq": "colour:red"},
        {"fq": "garbage"},
        {"sort": "price desc"},
        {"rows": "5000"},
        {"facet.field": "owner"},
    ],
)
def test_package_search_bad_input(client: TestClient, params: dict[str, str]) -> None:
    status, body = action(client, "package_search", **params)
    assert status == 409
    assert body["success"] is False
    assert body["error"]["__type"] == "Validation Error"
    assert body["error"]["message"]


def test_package_show(client: TestClient) -> None:
    status, body = action(client, "package_show", id="insurance")
    assert status == 200 and body["success"] is True
    package = body["result"]
    assert package["level"] == "L3"
    assert package["access_rights"] == "RESTRICTED"
    assert package["organization"]["name"] == "hrss"
    status, body = action(client, "package_show", id="violations")
    assert status == 404 and body["success"] is False
    status, body = action(client, "package_show", id="nope")
    assert status == 404
    status, body = action(client, "package_show")
    assert status == 409


def test_dcat_jsonld(client: TestClient) -> None:
    response = client.get(
        f"{PREFIX}/datasets/enterprise-registry/dcat.jsonld", follow_redirects=True
    )
    assert response.status_code == 200
    doc = json.loads(response.text)
    nodes = doc.get("@graph", [doc])
    dataset = next(n for n in nodes if n.get("@type") == "dcat:Dataset")
    assert dataset["dct:accessRights"]["@id"].endswith("/PUBLIC")
    hidden = client.get(f"{PREFIX}/datasets/violations/dcat.jsonld", follow_redirects=True)
    assert hidden.status_code == 404


def test_catalog_pages_are_public_and_bilingual(client: TestClient) -> None:
    zh = client.get(f"{PREFIX}/catalog")
    assert zh.status_code == 200
    assert "数据目录" in zh.text and "violations" not in zh.text
    en = client.get(f"{PREFIX}/catalog", params={"lang": "en"})
    assert "Catalog" in en.text and "数据目录" not in en.text
    page = client.get(f"{PREFIX}/datasets/hotline-tickets")
    assert page.status_code == 200 and "申请使用" in page.text
    missing = client.get(f"{PREFIX}/datasets/violations")
    assert missing.status_code == 404 and "没有数据集" in missing.text


def test_anonymous_is_sent_to_login(client: TestClient) -> None:
    page = client.get(f"{PREFIX}/applications")
    assert page.status_code == 302
    assert page.headers["location"].startswith(f"{PREFIX}/login?next=")
    login = client.get(page.headers["location"])
    assert login.status_code == 302
    assert "/hub/api/oauth2/authorize?" in login.headers["location"]
    assert "code_challenge=" in login.headers["location"]
    api = client.get(f"{PREFIX}/api/applications")
    assert api.status_code == 401
    assert api.json()["error"] == "请先登录"
    api_en = client.get(f"{PREFIX}/api/applications", headers={"accept-language": "en"})
    assert api_en.json()["error"] == "log in to continue"


def test_language_switch_sets_a_cookie(client: TestClient) -> None:
    response = client.get(f"{PREFIX}/lang/en", params={"next": f"{PREFIX}/catalog"})
    assert response.status_code == 303
    assert response.headers["location"] == f"{PREFIX}/catalog"
    assert "pds-lang=en" in response.headers["set-cookie"]
    evil = client.get(f"{PREFIX}/lang/en", params={"next": "https://evil.example"})
    assert evil.headers["location"] == f"{PREFIX}/"


def test_health_and_openapi(client: TestClient) -> None:
    health = client.get(f"{PREFIX}/api/health")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    spec = client.get(f"{PREFIX}/api/openapi.json")
    assert (
        spec.status_code == 200 and "/services/portal/api/3/action/{name}" in spec.json()["paths"]
    )


def test_oauth_callback_rejects_a_forged_state(client: TestClient) -> None:
    response = client.get(f"{PREFIX}/oauth_callback", params={"code": "x", "state": "forged"})
    assert response.status_code == 302  # back to a fresh login, no token issued
    assert response.headers["location"].startswith(f"{PREFIX}/login")
    assert "pds-portal-token" not in response.headers.get("set-cookie", "")
