"""Routes are thin: one endpoint per action, typed bodies, declared response models, no page or
body built in any route module; and the admin's two role endpoints work."""

from __future__ import annotations

import ast
import typing
from pathlib import Path

import pytest
from factories import portal_at
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hub_users import PREFIX, app_for, auth_header
from pydantic import BaseModel

from open_portal.routes import ROUTERS

ROOT = Path(__file__).resolve().parents[3]
ROUTES = [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)]
# every route module: pages and bodies are built in ``open_portal/views``
ROUTE_MODULES = sorted(p.stem for p in (ROOT / "open_portal" / "routes").glob("*.py"))
# answers that are signed evidence (an audit entry with its proof), passed on as the log gave it
EVIDENCE = {
    "/api/exports/{request_id}/release",
    "/api/destruction/{grant_id}/certificate",
    "/api/destruction/{grant_id}",
}


# JSON API routes that answer with no pydantic model, each for its reason
UNTYPED_API = {
    # the OpenAPI description itself and its HTML viewer
    "/api/openapi.json": "the OpenAPI document, as FastAPI builds it",
    "/api/docs": "an HTML page",
    # CKAN's Action API: one path for every action, each answering in CKAN's own shape
    "/api/3/action/{name}": "CKAN Action API, shaped per action by CKAN",
    "/api/action/{name}": "CKAN Action API, shaped per action by CKAN",
}


def _typed(model: object) -> bool:
    """A pydantic model, or a list of one."""
    if isinstance(model, type) and issubclass(model, BaseModel):
        return True
    args = typing.get_args(model)
    return typing.get_origin(model) is list and len(args) == 1 and _typed(args[0])


def test_no_endpoint_dispatches_on_an_action_name() -> None:
    dispatching = []
    for route in ROUTES:
        names = {p.name for p in route.dependant.path_params}
        names |= {p.name for p in route.dependant.body_params}
        names |= {p.name for p in route.dependant.query_params}
        if names & {"action", "decision"}:
            dispatching.append(f"{sorted(route.methods)} {route.path}")
    assert dispatching == []


@pytest.mark.parametrize("prefix", ["/api/applications", "/api/grants", "/api/exports"])
def test_api_routes_declare_their_response_model(prefix: str) -> None:
    routes = [r for r in ROUTES if r.path.startswith(prefix) and r.path not in EVIDENCE]
    assert len(routes) >= 5
    assert [r.path for r in routes if r.response_model is None] == []


def test_every_json_api_route_declares_a_pydantic_response_model() -> None:
    api = [r for r in ROUTES if r.path.startswith("/api/")]
    assert len(api) >= 30
    untyped = [
        f"{sorted(r.methods)} {r.path}"
        for r in api
        if r.path not in UNTYPED_API and r.path not in EVIDENCE and not _typed(r.response_model)
    ]
    assert untyped == []


def test_every_route_module_is_checked() -> None:
    assert {"admin", "audit", "catalog", "dp", "pages", "exports"} <= set(ROUTE_MODULES)


@pytest.mark.parametrize("module", ROUTE_MODULES)
def test_route_module_builds_no_page(module: str) -> None:
    tree = ast.parse((ROOT / "open_portal" / "routes" / f"{module}.py").read_text())
    called = {
        node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
    }
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    # templates are rendered, and HTML marked safe, only in ``open_portal/views``
    page_building = {"render", "render_preview", "TemplateResponse", "get_template", "Markup"}
    assert not page_building & (called | imported)


def test_admin_adds_and_removes_a_role(tmp_path: Path) -> None:
    with portal_at(tmp_path / "data", f"sqlite:///{tmp_path / 'p.sqlite'}") as portal:
        client = TestClient(app_for(portal, ["admin"]), follow_redirects=False)
        page = client.get(f"{PREFIX}/admin", headers=auth_header("admin"))
        assert 'formaction="' + PREFIX + '/admin/roles/remove"' in page.text
        form = {"user_name": "researcher", "role": "owner", "domain": "dept:hotline"}
        added = client.post(f"{PREFIX}/admin/roles", data=form, headers=auth_header("admin"))
        assert added.status_code == 303
        assert "owner" in portal.policy.all_roles("researcher")
        removed = client.post(
            f"{PREFIX}/admin/roles/remove", data=form, headers=auth_header("admin")
        )
        assert removed.status_code == 303
        assert "owner" not in portal.policy.all_roles("researcher")
