"""Datasets a caller may not see (L4, drafts) answer exactly like ids that never existed.

Every route that takes a dataset id is asked, as each kind of caller, about an L4 dataset, a
draft and an unknown id: the status and the body must be the same, the id aside.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from factories import add_dataset, portal_at
from fastapi.testclient import TestClient
from hub_users import PREFIX, app_for, auth_header

from open_portal.models import Level

HIDDEN = ["secret-l4", "draft-l2"]
UNKNOWN = "never-existed"
CALLERS = ["", "researcher", "operator"]


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with portal_at(tmp_path / "data", f"sqlite:///{tmp_path / 'p.sqlite'}") as portal:
        add_dataset(portal, "secret-l4", Level.L4, publisher="traffic")
        add_dataset(portal, "draft-l2", Level.L2, confirmed=False)
        add_dataset(portal, "tickets", Level.L2)
        app = app_for(portal, [c for c in CALLERS if c])
        with TestClient(app, follow_redirects=False, raise_server_exceptions=False) as c:
            yield c


def _body_for(operation: dict[str, Any]) -> dict[str, Any]:
    content = operation.get("requestBody", {}).get("content", {})
    if "multipart/form-data" in content:
        return {"files": {"file": ("t.csv", b"a,b\n1,2\n", "text/csv")}}
    if "application/x-www-form-urlencoded" in content:
        return {"data": {"policy_yaml": "columns: {}\n"}}
    return {}


def _dataset_routes(client: TestClient) -> list[tuple[str, str, dict[str, Any]]]:
    spec = client.get(PREFIX + "/api/openapi.json").json()
    return [
        (method.upper(), path, operation)
        for path, methods in spec["paths"].items()
        for method, operation in methods.items()
        if "{dataset_id}" in path
    ]


def _answer(
    client: TestClient, caller: str, method: str, url: str, dataset_id: str, **kw: Any
) -> tuple[int, str]:
    headers = {"accept": "application/json", **(auth_header(caller) if caller else {})}
    response = client.request(
        method, url.replace("{dataset_id}", dataset_id), headers=headers, **kw
    )
    return response.status_code, response.text.replace(dataset_id, "ID")


@pytest.mark.parametrize("caller", CALLERS)
def test_every_dataset_route_answers_hidden_as_unknown(client: TestClient, caller: str) -> None:
    routes = _dataset_routes(client)
    assert len(routes) >= 6
    for method, path, operation in routes:
        body = _body_for(operation)
        unknown = _answer(client, caller, method, path, UNKNOWN, **body)
        for hidden in HIDDEN:
            assert _answer(client, caller, method, path, hidden, **body) == unknown, (path, hidden)


@pytest.mark.parametrize("caller", CALLERS)
def test_ckan_package_show_answers_hidden_as_unknown(client: TestClient, caller: str) -> None:
    headers = auth_header(caller) if caller else {}

    def show(dataset_id: str) -> tuple[int, str]:
        response = client.get(
            PREFIX + "/api/3/action/package_show", params={"id": dataset_id}, headers=headers
        )
        return response.status_code, response.text.replace(dataset_id, "ID")

    unknown = show(UNKNOWN)
    assert unknown[0] == 404
    assert all(show(hidden) == unknown for hidden in HIDDEN)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_applying_for_a_hidden_dataset_answers_as_unknown(client: TestClient, lang: str) -> None:
    today = date.today()

    def apply(dataset_id: str) -> tuple[int, str]:
        body = {
            "kind": "person",
            "dataset_ids": [dataset_id],
            "purpose": "研究",
            "level": "L2",
            "starts_on": today.isoformat(),
            "ends_on": (today + timedelta(days=30)).isoformat(),
        }
        response = client.post(
            PREFIX + "/api/applications",
            json=body,
            headers={**auth_header("researcher"), "accept-language": lang},
        )
        return response.status_code, response.text.replace(dataset_id, "ID")

    unknown = apply(UNKNOWN)
    assert unknown[0] == 422
    assert all(apply(hidden) == unknown for hidden in HIDDEN)
    assert apply("tickets")[0] == 201
