"""Every free-text input has a length limit: checked on the OpenAPI description of every route,
and by sending 1 MB to every route and past the limit to every query parameter (a 4xx, never a 5xx)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from factories import add_dataset, portal_at
from fastapi import params
from fastapi.testclient import TestClient
from jupyterhub.services.auth import HubOAuth

from open_portal.app import create_app
from open_portal.auth import HubSSO, Signer
from open_portal.models import Level
from open_portal.routes import ROUTERS
from open_portal.routes import exports as export_routes

PREFIX = "/services/portal"
MEGABYTE = "字" * (1024 * 1024 // 3 + 1)  # 1 MB of UTF-8
# Fields whose limit is the body cap, not a per-field length: uploaded files, the DP query
# (checked field by field by the DP service).
UNBOUNDED = {"file", "*/dp"}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with portal_at(tmp_path / "data", f"sqlite:///{tmp_path / 'p.sqlite'}") as portal:
        add_dataset(portal, "tickets", Level.L2, publisher="hotline")
        hub_auth = HubOAuth(
            api_token="not-used",
            oauth_client_id="service-portal",
            api_url="http://127.0.0.1:9/hub/api",
        )
        sso = HubSSO(hub_auth, Signer(b"s" * 32), PREFIX + "/")
        with TestClient(create_app(portal, sso, prefix=PREFIX), follow_redirects=False) as c:
            yield c


def unbounded(schema: dict[str, Any], where: str, refs: dict[str, Any]) -> Iterator[str]:
    """Paths of string fields without maxLength and lists without maxItems in a JSON schema."""
    while "$ref" in schema:
        schema = refs[schema["$ref"].rsplit("/", 1)[-1]]
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key, []):
            yield from unbounded(sub, where, refs)
    kind = schema.get("type")
    if kind == "string" and "maxLength" not in schema and "enum" not in schema:
        if schema.get("format") not in ("date", "date-time", "binary"):
            yield where
    elif kind == "array":
        if "maxItems" not in schema:
            yield f"{where}[]"
        yield from unbounded(schema.get("items", {}), f"{where}[]", refs)
    elif kind == "object":
        for name, sub in schema.get("properties", {}).items():
            yield from unbounded(sub, f"{where}.{name}", refs)
        if "properties" not in schema or schema.get("additionalProperties"):
            yield f"{where}.*"


def test_every_free_text_input_of_every_route_has_a_limit(client: TestClient) -> None:
    spec = client.app.openapi()  # type: ignore[attr-defined]
    refs = spec.get("components", {}).get("schemas", {})
    # the export routes' own fields are limited in their module (see routes/exports.py)
    theirs = {PREFIX + r.path for r in export_routes.router.routes}  # type: ignore[attr-defined]
    found = []
    for path, operations in spec["paths"].items():
        if path in theirs:
            continue
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path":
                    continue  # ids looked up, never stored; the server caps the request line
                found += unbounded(parameter["schema"], f"{where} {parameter['name']}", refs)
            for content in operation.get("requestBody", {}).get("content", {}).values():
                found += unbounded(content["schema"], f"{where} body", refs)
    # a DP query (asked or previewed) is read by the query parser, which names what it accepts
    dp_queries = ("/dp body.*", "/dp/preview body.*")
    allowed = [f for f in found if f.endswith(" body.file") or f.endswith(dp_queries)]
    assert sorted(set(found) - set(allowed)) == []
    assert len(spec["paths"]) > 40


def every_route() -> Iterator[tuple[str, str, list[str], bool]]:
    for router in ROUTERS:
        for route in router.routes:
            url = PREFIX + re.sub(r"{(\w+)(:\w+)?}", "1", route.path_format)  # type: ignore[attr-defined]
            queries = [p.alias for p in route.dependant.query_params]  # type: ignore[attr-defined]
            for dep in route.dependant.dependencies:  # type: ignore[attr-defined]
                queries += [p.alias for p in dep.query_params]
            uploads = any(
                isinstance(f.field_info, params.File)
                for f in route.dependant.body_params  # type: ignore[attr-defined]
            )
            for method in sorted(route.methods):  # type: ignore[attr-defined]
                yield method, url, queries, uploads


def test_a_megabyte_body_is_refused_on_every_route(client: TestClient) -> None:
    seen = 0
    for method, url, _, uploads in every_route():
        accept = {"Accept": "application/json"}  # a 4xx, not the login page's redirect
        body = {"text": MEGABYTE, "comment": MEGABYTE}
        as_json = client.request(method, url, json=body, headers=accept)
        as_form = client.request(
            method, url, data={"purpose": MEGABYTE, "_csrf": "x"}, headers=accept
        )
        for response in (as_json, as_form):
            assert 400 <= response.status_code < 500, (method, url, response.status_code)
        if method == "POST" and not uploads:  # uploads: their fields' limits, past the login
            assert as_json.status_code == as_form.status_code == 413, (url, as_json.status_code)
            seen += 1
    assert seen >= 20
    answer = client.post(
        f"{PREFIX}/api/applications",
        json={"purpose": MEGABYTE},
        headers={"Accept-Language": "en"},
    )
    assert answer.status_code == 413 and "KiB" in answer.json()["error"]
    assert "请求内容超过" in client.post(f"{PREFIX}/api/applications", json={"x": MEGABYTE}).text


def test_a_megabyte_in_any_query_parameter_is_refused(client: TestClient) -> None:
    checked = 0
    for method, url, queries, _ in every_route():
        for name in queries:
            response = client.request(
                method, url, params={name: "x" * 5000}, headers={"Accept": "application/json"}
            )
            assert 400 <= response.status_code < 500, (method, url, name, response.status_code)
            checked += 1
    assert checked > 20
    catalog = client.get(f"{PREFIX}/catalog", params={"q": "x" * 300})
    assert catalog.status_code == 422 and "q" in catalog.text
    ckan = client.get(f"{PREFIX}/api/3/action/package_search", params={"fq": "x" * 5000})
    assert ckan.status_code == 400 and "参数 fq 超过" in ckan.json()["error"]["message"]
