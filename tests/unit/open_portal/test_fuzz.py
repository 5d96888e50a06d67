"""Every operation of the portal's own OpenAPI answers bad input with a 4xx, never a 5xx.

Schemathesis generates valid and invalid requests from the schema (seeded, so CI sees the same
ones every run) and sends them to the app in-process, as each role. A server error, or an
exception escaping the app (which a server turns into a 500), fails the test.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from factories import add_dataset, portal_at, submitted_application
from fastapi.testclient import TestClient
from hub_users import PREFIX, app_for, auth_header
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from open_portal.models import Decision, Level
from open_portal.service import applications
from open_portal.service.context import Portal

ROLES = ["researcher", "owner", "officer", "admin"]
#: Examples per operation and generation mode: about 400 requests per role.
EXAMPLES = 3


@contextlib.contextmanager
def _populated(data_dir: Path, database_url: str) -> Iterator[Portal]:
    with portal_at(data_dir, database_url) as p:
        add_dataset(p, "tickets", Level.L2, publisher="hotline")
        add_dataset(p, "payments", Level.L3, publisher="hrss")
        add_dataset(p, "violations", Level.L4, publisher="traffic")
        add_dataset(p, "draft", Level.L2, confirmed=False)
        app_id = submitted_application(p, ["tickets"])
        applications.review(p, actor="owner", application_id=app_id, decision=Decision.APPROVE)
        submitted_application(p, ["payments"], Level.L3, epsilon="1")
        yield p


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[Portal]:
    with _populated(tmp_path / "data", f"sqlite:///{tmp_path / 'p.sqlite'}") as p:
        yield p


def _fuzz(operation: Any, mode: GenerationMode, role: str, failures: list[str]) -> None:
    """Send the seeded examples of one operation in one mode; note every server error."""

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def send(case: Any) -> None:
        where = f"{operation.label} {mode.value} {case.path_parameters} {case.query}"
        try:
            response = case.call(headers=auth_header(role))
        except Exception as exc:  # a server would answer 500
            failures.append(f"{where}: {type(exc).__name__}: {exc}")
            return
        if response.status_code >= 500:
            failures.append(f"{where}: {response.status_code} {response.text[:200]}")

    # Unsatisfiable: nothing invalid to generate (no parameters, or free strings only)
    with contextlib.suppress(Unsatisfiable):
        send()


def _server_errors(portal: Portal, role: str) -> list[str]:
    app = app_for(portal, ROLES)
    schema = schemathesis.openapi.from_asgi(PREFIX + "/api/openapi.json", app)
    failures: list[str] = []
    for result in schema.get_all_operations():
        for mode in GenerationMode:
            _fuzz(result.ok(), mode, role, failures)  # type: ignore[union-attr]
    return failures


@pytest.mark.parametrize("role", ROLES)
def test_no_server_error_under_fuzz(portal: Portal, role: str) -> None:
    assert _server_errors(portal, role) == []


# The inputs that once gave 500s, sent to every operation that takes them.
HUGE_IDS = [str(2**64), str(2**63), str(2**31), "-1", "0", "1e3"]
ODD_STRINGS = ["数据集", "%F0%9F%98%80", "a" * 300, "..", "g0001%00"]


def _operations(client: TestClient) -> list[tuple[str, str, dict[str, Any]]]:
    spec = client.get(PREFIX + "/api/openapi.json").json()
    return [
        (method.upper(), path, operation)
        for path, methods in spec["paths"].items()
        for method, operation in methods.items()
    ]


@pytest.fixture
def client(tmp_path: Path, database_url: str) -> Iterator[TestClient]:
    """On SQLite and on PostgreSQL, whose integers and text refuse what SQLite stores."""
    with (
        _populated(tmp_path / "data", database_url) as portal,
        TestClient(app_for(portal, ROLES), raise_server_exceptions=False) as c,
    ):
        yield c


@pytest.mark.parametrize("role", ROLES)
def test_ids_out_of_range_or_not_ascii_are_4xx(client: TestClient, role: str) -> None:
    seen = []
    for method, path, operation in _operations(client):
        params = [p for p in operation.get("parameters", []) if p["in"] == "path"]
        for param in params:
            values = HUGE_IDS if param["schema"].get("type") == "integer" else ODD_STRINGS
            for value in values:
                url = path
                for other in params:
                    url = url.replace("{" + other["name"] + "}", value if other is param else "1")
                response = client.request(method, url, headers=auth_header(role))
                seen.append((method, url, response.status_code))
    errors = [s for s in seen if s[2] >= 500]
    assert len(seen) > 100 and errors == []


GARBAGE_BODIES: list[dict[str, Any]] = [
    {
        "content": b"\xff\xfe\x00garbage",
        "headers": {"content-type": "application/x-www-form-urlencoded"},
    },
    {
        "content": b"level=L9&kind=robot&dataset_ids=%FF",
        "headers": {"content-type": "application/x-www-form-urlencoded"},
    },
    {
        "content": b"dataset_ids=tickets&purpose=x&starts_on=2026-01-01&ends_on=2026-02-01"
        b"&level=L9&kind=robot&epsilon=NaN&_csrf=x",
        "headers": {"content-type": "application/x-www-form-urlencoded"},
    },
    {"content": b"--x\r\nbroken", "headers": {"content-type": "multipart/form-data; boundary=x"}},
    {"content": b"{not json", "headers": {"content-type": "application/json"}},
    {
        "content": b'{"kind": "robot", "level": "L9", "dataset_ids": [1e999]}',
        "headers": {"content-type": "application/json"},
    },
    {"content": b"[]", "headers": {"content-type": "application/json"}},
    # well-formed bodies whose text holds NUL, which PostgreSQL refuses with an error
    {
        "content": json.dumps(
            {
                "kind": "person",
                "dataset_ids": ["tickets"],
                "purpose": "研究\u0000目的",
                "level": "L2",
                "starts_on": "2030-01-01",
                "ends_on": "2030-02-01",
                "epsilon": "0",
                "agreement_accepted": True,
                "commitment_accepted": True,
                "team_members": ["x\u0000"],
                "reason": "理由\u0000",
                "comment": "\u0000",
                "text": "\u0000",
            }
        ).encode(),
        "headers": {"content-type": "application/json"},
    },
    {
        "content": b"kind=person&dataset_ids=tickets&purpose=%E7%A0%94%00&level=L2"
        b"&starts_on=2030-01-01&ends_on=2030-02-01&epsilon=0&agreement_accepted=true"
        b"&commitment_accepted=true&reason=%00&comment=%00&text=%00&_csrf=x",
        "headers": {"content-type": "application/x-www-form-urlencoded"},
    },
]


@pytest.mark.parametrize("role", ROLES)
def test_garbage_bodies_and_unknown_enum_values_are_4xx(client: TestClient, role: str) -> None:
    errors = []
    for method, path, _ in _operations(client):
        if method != "POST":
            continue
        url = path.replace("{dataset_id}", "tickets").replace("{grant_id}", "g0001")
        url = url.replace("{action}", "approve").replace("{group}", "default")
        url = url.replace("{request_id}", "1").replace("{file_id}", "1")
        url = url.replace("{application_id}", "1")
        for body in GARBAGE_BODIES:
            response = client.post(
                url, headers={**auth_header(role), **body["headers"]}, content=body["content"]
            )
            if response.status_code >= 500:
                errors.append((url, body["content"][:30], response.status_code))
    assert errors == []


@pytest.mark.parametrize(
    "query",
    [
        "/api/3/action/package_show?id=%00",
        "/api/3/action/package_search?q=%00",
        "/api/3/action/package_search?fq=theme:%00",
        "/catalog?q=%00&theme=%00",
        "/dcat/datasets/tickets%00.ttl",
    ],
)
def test_nul_in_a_query_is_4xx_or_nothing_found(client: TestClient, query: str) -> None:
    response = client.get(PREFIX + query, headers=auth_header("researcher"))
    assert response.status_code < 500, response.text[:200]
