"""The workspace credential and the app-wide boundary: accepted only on its grant's workspace
API, refused on every other route of the app; refused once revoked or once its grant stops."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from factories import add_dataset, portal_at, submitted_application
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from jupyterhub.services.auth import HubOAuth

from open_portal.app import create_app
from open_portal.auth import HubSSO, Signer
from open_portal.models import Decision, Level, WorkspaceCredential
from open_portal.routes import ROUTERS
from open_portal.service import applications, grants, workspace_credentials
from open_portal.service.context import Portal

PREFIX = "/services/portal"
REFUSED_ZH = "工作区凭证只能用于其所属授权"


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[Portal]:
    with portal_at(tmp_path / "data", f"sqlite:///{tmp_path / 'p.sqlite'}") as p:
        add_dataset(p, "tickets", Level.L2, publisher="hotline")
        p.policy.assign_role("owner", "owner", "dept:hotline")
        yield p


@pytest.fixture
def client(portal: Portal) -> Iterator[TestClient]:
    # The hub is not running: no request of these tests carries a hub token.
    hub_auth = HubOAuth(
        api_token="not-used", oauth_client_id="service-portal", api_url="http://127.0.0.1:9/hub/api"
    )
    sso = HubSSO(hub_auth, Signer(b"s" * 32), PREFIX + "/")
    with TestClient(create_app(portal, sso, prefix=PREFIX), follow_redirects=False) as c:
        yield c


def new_grant(portal: Portal) -> str:
    app_id = submitted_application(portal, ["tickets"], Level.L2, team_members=["operator"])
    applications.review(portal, actor="owner", application_id=app_id, decision=Decision.APPROVE)
    return f"g{app_id:04d}"


def workspace(token: str) -> dict[str, str]:
    return {"Authorization": f"workspace {token}", "Accept": "application/json"}


def every_request(client: TestClient, grant_id: str) -> Iterator[tuple[str, str, bool]]:
    """(method, URL, is this grant's workspace API) for every route and method of the app."""
    included = [getattr(r, "original_router", None) for r in client.app.routes]  # type: ignore[attr-defined]
    assert included == ROUTERS, "a route outside ROUTERS would not be behind the boundary"
    for route in (r for router in ROUTERS for r in router.routes):
        assert isinstance(route, APIRoute)
        url = PREFIX + route.path_format
        own = url.startswith(f"{PREFIX}/api/workspace/grants/{{grant_id}}")
        for name in re.findall(r"{(\w+)(?::\w+)?}", url):
            value = {"grant_id": grant_id, "code": "en", "name": "portal.css"}.get(name, "1")
            url = re.sub(r"{" + name + r"(:\w+)?}", value, url)
        for method in sorted(route.methods):
            yield method, url, own


def test_the_credential_works_only_on_its_grants_workspace_api(
    portal: Portal, client: TestClient
) -> None:
    grant_id = new_grant(portal)
    token = workspace_credentials.issue(portal, grant_id=grant_id, user="researcher")
    accepted, refused = [], []
    for method, url, own in every_request(client, grant_id):
        response = client.request(method, url, headers=workspace(token), json={})
        if own:
            accepted.append(url)
            assert response.status_code not in (401, 403), (method, url, response.text)
        else:
            refused.append(url)
            assert response.status_code == 403, (method, url, response.status_code)
            if "/api/" in url:
                assert REFUSED_ZH in response.json()["error"]
    assert len(refused) > 60 and len(accepted) >= 4
    own = client.get(f"{PREFIX}/api/workspace/grants/{grant_id}", headers=workspace(token))
    assert own.status_code == 200 and own.json()["grant_id"] == grant_id
    budget = client.get(
        f"{PREFIX}/api/workspace/grants/{grant_id}/budget", headers=workspace(token)
    )
    assert budget.status_code == 200 and budget.json()["grant"] == grant_id
    english = client.get(
        f"{PREFIX}/api/grants", headers={**workspace(token), "Accept-Language": "en"}
    )
    assert "only on the workspace API of its own grant" in english.json()["error"]


def test_the_credential_of_grant_a_is_refused_on_grant_b(
    portal: Portal, client: TestClient
) -> None:
    grant_a, grant_b = new_grant(portal), new_grant(portal)
    token_a = workspace_credentials.issue(portal, grant_id=grant_a, user="researcher")
    for path in ("", "/budget", "/dp", "/exports"):
        method = "POST" if path in ("/dp", "/exports") else "GET"
        url = f"{PREFIX}/api/workspace/grants/{grant_b}{path}"
        response = client.request(method, url, headers=workspace(token_a), json={})
        assert response.status_code == 403, (url, response.text)
        # the same path with a grant id spelled differently is still another grant
        other = client.get(
            f"{PREFIX}/api/workspace/grants/{grant_a.upper()}", headers=workspace(token_a)
        )
        assert other.status_code == 403


def test_a_credential_ends_with_its_server_or_its_grant(portal: Portal, client: TestClient) -> None:
    grant_id = new_grant(portal)
    url = f"{PREFIX}/api/workspace/grants/{grant_id}"
    first = workspace_credentials.issue(portal, grant_id=grant_id, user="researcher")
    second = workspace_credentials.issue(portal, grant_id=grant_id, user="researcher")
    assert client.get(url, headers=workspace(first)).status_code == 401  # replaced at restart
    assert client.get(url, headers=workspace(second)).status_code == 200
    workspace_credentials.revoke(portal, grant_id=grant_id, user="researcher")
    stopped = client.get(url, headers=workspace(second))
    assert stopped.status_code == 401 and "凭证" in stopped.json()["error"]
    third = workspace_credentials.issue(portal, grant_id=grant_id, user="researcher")
    assert client.get(url, headers=workspace(third)).status_code == 200
    grants.change_status(portal, actor="officer", grant_id=grant_id, action="suspend", reason="x")
    assert client.get(url, headers=workspace(third)).status_code == 401
    with portal.sessions() as session:
        assert session.query(WorkspaceCredential).count() == 0  # dropped with the suspension
    grants.change_status(portal, actor="officer", grant_id=grant_id, action="reinstate")
    assert client.get(url, headers=workspace(third)).status_code == 401  # never comes back


def test_only_a_hash_is_stored_and_only_members_of_usable_grants_get_one(
    portal: Portal,
) -> None:
    grant_id = new_grant(portal)
    token = workspace_credentials.issue(portal, grant_id=grant_id, user="researcher")
    with portal.sessions() as session:
        stored = session.query(WorkspaceCredential).one()
        assert stored.token_hash != token and token not in repr(vars(stored))
        assert stored.user_name == "researcher" and stored.grant_id == grant_id
    with pytest.raises(Exception, match="no usable grant"):
        workspace_credentials.issue(portal, grant_id=grant_id, user="owner")
    with pytest.raises(Exception, match="no usable grant"):  # invited, not yet a member
        workspace_credentials.issue(portal, grant_id=grant_id, user="operator")
    with pytest.raises(Exception, match="no usable grant"):
        workspace_credentials.issue(portal, grant_id="g9999", user="researcher")


@pytest.mark.parametrize(
    "header",
    [
        "workspace pdsw_forged",
        "workspace ",
        "workspace pdsw_" + "x" * 100_000,
        "Basic cmVzZWFyY2hlcjpwdw==",
        "Bearer",
    ],
)
def test_a_credential_that_is_not_valid_is_refused_not_anonymous(
    client: TestClient, header: str
) -> None:
    # the catalog is open to anonymous visitors, but not to a caller with a bad credential
    assert client.get(f"{PREFIX}/api/3/action/package_search").status_code == 200
    response = client.get(
        f"{PREFIX}/api/3/action/package_search", headers={"Authorization": header}
    )
    assert response.status_code == 401
    assert "凭证" in response.json()["error"]
