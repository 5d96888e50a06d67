"""Every route of the portal goes through the guard (who calls, and the route's permission)."""

from __future__ import annotations

from fastapi.routing import APIRoute

from open_portal.routes import ROUTERS
from open_portal.web import Guard


def guards_of(dependant: object) -> list[Guard]:
    found = []
    for dep in getattr(dependant, "dependencies", []):
        if isinstance(dep.call, Guard):
            found.append(dep.call)
        found.extend(guards_of(dep))
    return found


def test_every_route_declares_a_guard() -> None:
    routes = [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)]
    assert len(routes) > 30
    unguarded = [f"{sorted(r.methods)} {r.path}" for r in routes if not guards_of(r.dependant)]
    assert unguarded == []


def test_state_changing_routes_require_login() -> None:
    """Only reads may be posted anonymously (CKAN clients POST their read actions)."""
    routes = [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)]
    anonymous_reads = sorted(
        r.path
        for r in routes
        if "POST" in r.methods and any(not g.login for g in guards_of(r.dependant))
    )
    assert anonymous_reads == ["/api/3/action/{name}", "/api/action/{name}"]
