"""Attacking the governance promises through HTTP, by enumeration.

Every state-changing route of the app (each POST, PUT, PATCH and DELETE, the forms' and the
API's) is mapped here to the ``can_…`` function of ``open_portal.permissions`` that decides it;
a route without a mapping fails ``test_every_state_changing_route_is_mapped``. Each route is then
called, on objects in each of their states, by every person whom that function refuses: the
answer must be a refusal (never a success, never a 5xx), the database must be unchanged and the
audit log must hold no new event.

The persons are those of the permission truth table (``tests/unit/policies``) plus a workspace
credential of another grant, which nothing outside its own grant's workspace API may accept.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from factories import add_dataset, drained, portal_at, submitted_application
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hub_users import PREFIX, app_for, auth_header
from sqlalchemy.orm import Session

from open_portal import permissions
from open_portal.models import (
    ApplicantKind,
    Application,
    ApplicationDataset,
    ApplicationStatus,
    ExportRequest,
    ExportStatus,
    Grant,
    GrantDataset,
    GrantInvitation,
    GrantMember,
    GrantStatus,
    InvitationStatus,
    Level,
)
from open_portal.models.exports import DestructionStatus, GrantDestruction
from open_portal.routes import ROUTERS
from open_portal.service import catalog, users, workspace_credentials
from open_portal.service.context import Portal

# who -> (user name, roles as (role, domain)); "" is anonymous
PEOPLE: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "anonymous": ("", []),
    "stranger": ("rita", [("researcher", "*")]),
    "applicant": ("alice", [("researcher", "*")]),
    "team member": ("tom", [("researcher", "*")]),
    "invitee": ("ivan", [("researcher", "*")]),
    "officer on the team": ("tess", [("researcher", "*"), ("officer", "*")]),
    "data owner": ("olga", [("owner", "dept:hotline")]),
    "other-dept owner": ("oleg", [("owner", "dept:traffic")]),
    "owner and officer": ("owen", [("owner", "dept:hotline"), ("officer", "*")]),
    "officer": ("oscar", [("officer", "*")]),
    "destruction starter": ("sofia", [("officer", "*")]),
    "admin": ("ada", [("admin", "*")]),
    # alice's credential for the workspace of another grant (OTHER_GRANT)
    "workspace credential": ("alice", []),
}
CREDENTIAL = "workspace credential"
TEAM = ["tom", "ivan", "tess"]
REQUESTED = ["tickets", "routes"]
OTHER_GRANT = "g0009"
HIDDEN = {"L4": "secret-l4", "draft": "draft-l2"}
UNKNOWN = "never-existed"
START = datetime.now(UTC) - timedelta(days=10)


# ---- the world: real rows in the portal's database ------------------------------------------


@dataclass
class World:
    portal: Portal
    client: TestClient
    credential: str
    # kind -> state -> the id the routes take
    objects: dict[str, dict[str, Any]]


def _application(session: Session, status: ApplicationStatus) -> int:
    application = Application(
        applicant="alice",
        kind=ApplicantKind.PERSON,
        purpose="研究热线诉求",
        team_members=list(TEAM),
        level=Level.L2,
        starts_on=date.today(),
        ends_on=date.today() + timedelta(days=60),
        status=status,
        datasets=[ApplicationDataset(dataset_id=d) for d in REQUESTED],
    )
    session.add(application)
    session.flush()
    return application.id


def _grant(session: Session, grant_id: str, status: GrantStatus) -> str:
    grant = Grant(
        id=grant_id,
        application_id=_application(session, ApplicationStatus.APPROVED),
        holder="alice",
        level=Level.L2,
        starts_at=START,
        ends_at=START + timedelta(days=60),
        status=status,
    )
    for dataset_id in REQUESTED:
        grant.datasets.append(GrantDataset(dataset_id=dataset_id, version_id=1))
    for name in ("alice", "tom", "tess"):
        grant.members.append(GrantMember(user_name=name))
    grant.invitations.append(GrantInvitation(user_name="ivan", status=InvitationStatus.INVITED))
    session.add(grant)
    session.flush()
    return grant_id


def _export(session: Session, status: ExportStatus) -> int:
    request = ExportRequest(grant_id="g0001", author="alice", status=status)
    session.add(request)
    session.flush()
    return request.id


def _build(portal: Portal) -> dict[str, dict[str, Any]]:
    add_dataset(portal, "tickets", Level.L2, owner="olga", publisher="hotline")
    add_dataset(portal, "routes", Level.L2, owner="owen", publisher="hotline")
    add_dataset(portal, HIDDEN["L4"], Level.L4, owner="olga", publisher="hotline")
    add_dataset(portal, HIDDEN["draft"], Level.L2, owner="olga", confirmed=False)
    for name, roles in PEOPLE.values():
        if name:
            users.ensure_user(portal, name=name)
        for role, domain in roles:
            portal.policy.assign_role(name, role, domain)
    portal.policy.reload()
    with portal.sessions.begin() as session:
        applications = {
            state: _application(session, ApplicationStatus(state))
            for state in ("draft", "submitted", "approved")
        }
        grants = {
            "active": _grant(session, "g0001", GrantStatus.ACTIVE),
            "suspended": _grant(session, "g0002", GrantStatus.SUSPENDED),
            "ended": _grant(session, "g0003", GrantStatus.ENDED),
        }
        _grant(session, OTHER_GRANT, GrantStatus.ACTIVE)
        _grant(session, "g0004", GrantStatus.ENDED)
        _grant(session, "g0005", GrantStatus.ENDED)
        session.add(GrantDestruction(grant_id="g0004", triggered_by="sofia", confirmed_by=""))
        session.add(
            GrantDestruction(
                grant_id="g0005",
                status=DestructionStatus.STARTED,
                triggered_by="sofia",
                confirmed_by="oscar",
            )
        )
        exports = {
            state: _export(session, ExportStatus(state))
            for state in ("pending", "submitted", "reviewed", "approved")
        }
    return {
        "application": applications,
        "grant": grants,
        "export": exports,
        "destruction": {"none": "g0001", "requested": "g0004", "started": "g0005"},
        "dataset": {"published": "tickets"},
        "platform": {"-": None},
    }


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("attack")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PDS_WORKSPACE_ROOT", str(tmp / "workspaces"))
        mp.setenv("PDS_WORKSPACE_RUN_DIR", str(tmp / "run"))
        mp.delenv("JUPYTERHUB_API_URL", raising=False)
        with portal_at(tmp / "data", f"sqlite:///{tmp / 'p.sqlite'}") as portal:
            objects = _build(portal)
            credential = workspace_credentials.issue(portal, grant_id=OTHER_GRANT, user="alice")
            names = sorted({name for name, _ in PEOPLE.values() if name})
            app = app_for(portal, names)
            with TestClient(app, follow_redirects=False, raise_server_exceptions=False) as c:
                drained(portal)  # the assessments resumed at start run before any snapshot
                yield World(portal, c, credential, objects)


# ---- the mapping: route -> the permission that decides it -----------------------------------

Checker = Callable[[Portal, Session, str, Any], bool]


def _app(check: Callable[..., bool]) -> Checker:
    def ask(portal: Portal, session: Session, user: str, id_: int) -> bool:
        application = session.get(Application, id_)
        return check(portal.policy, session, user, application)

    return ask


def _review(portal: Portal, session: Session, user: str, id_: int) -> bool:
    application = session.get(Application, id_)
    assert application is not None
    datasets = [d for d in permissions._datasets(session, application.dataset_ids)]
    as_owner = any(
        permissions.can_review_application_as_owner(portal.policy, session, user, application, d)
        for d in datasets
    )
    return as_owner or permissions.can_review_application_as_officer(
        portal.policy, session, user, application
    )


def _grant_check(check: Callable[..., bool]) -> Checker:
    def ask(portal: Portal, session: Session, user: str, id_: str) -> bool:
        grant = session.get(Grant, id_)
        return check(portal.policy, session, user, grant, portal.clock())

    return ask


def _export_check(*checks: Callable[..., bool]) -> Checker:
    def ask(portal: Portal, session: Session, user: str, id_: int) -> bool:
        request = session.get(ExportRequest, id_)
        return any(c(portal.policy, session, user, request, portal.clock()) for c in checks)

    return ask


def _destruction(portal: Portal, session: Session, user: str, grant_id: str) -> bool:
    grant = session.get(Grant, grant_id)
    assert grant is not None
    pending = session.get(GrantDestruction, grant_id)
    now = portal.clock()
    if pending is None:
        return permissions.can_start_destruction(portal.policy, session, user, grant, now)
    if pending.status == DestructionStatus.DONE:  # answers with the certificate: a read
        return permissions.can_read_grant(portal.policy, session, user, grant, now)
    return permissions.can_confirm_destruction(
        portal.policy, session, user, grant, now, started_by=pending.triggered_by
    )


def _dataset_update(portal: Portal, session: Session, user: str, id_: str) -> bool:
    from open_portal.models import Dataset

    dataset = session.get(Dataset, id_)
    assert dataset is not None
    return permissions.can_update_dataset(portal.policy, user, dataset)


def _apply(portal: Portal, session: Session, user: str, _: object) -> bool:
    kind = ApplicantKind.PERSON
    return permissions.can_apply(portal.policy, session, user, kind, REQUESTED)


def _publish(portal: Portal, session: Session, user: str, _: object) -> bool:
    return permissions.can_publish_dataset(portal.policy, user)


def _manage(portal: Portal, session: Session, user: str, _: object) -> bool:
    return permissions.can_manage_platform(portal.policy, user)


def _read_only(portal: Portal, session: Session, user: str, _: object) -> bool:
    """CKAN clients POST their read actions: nothing may change, whoever asks."""
    return False


P = permissions
EDIT_EXPORT = _export_check(P.can_edit_export)
REVIEW_EXPORT = _export_check(P.can_review_export)
DECIDE_EXPORT = _export_check(P.can_decide_export)
# route name -> (the kind of object its path names, the permission)
ROUTE_PERMISSION: dict[str, tuple[str, Checker]] = {
    "publish": ("platform", _publish),
    "upload_version": ("dataset", _dataset_update),
    "confirm_policy": ("dataset", _dataset_update),
    "set_budget_from_form": ("dataset", _dataset_update),
    "set_budget": ("dataset", _dataset_update),
    "ckan_action_post": ("platform", _read_only),
    "ckan_action_unversioned_post": ("platform", _read_only),
    "create_from_form": ("platform", _apply),
    "api_create": ("platform", _apply),
    "submit_from_form": ("application", _app(P.can_edit_application)),
    "api_submit": ("application", _app(P.can_edit_application)),
    "withdraw_from_form": ("application", _app(P.can_edit_application)),
    "api_withdraw": ("application", _app(P.can_edit_application)),
    "approve_from_form": ("application", _review),
    "api_approve": ("application", _review),
    "return_from_form": ("application", _review),
    "api_return": ("application", _review),
    "reject_from_form": ("application", _review),
    "api_reject": ("application", _review),
    "suspend_grant_from_form": ("grant", _grant_check(P.can_suspend_grant)),
    "suspend_grant": ("grant", _grant_check(P.can_suspend_grant)),
    "reinstate_grant_from_form": ("grant", _grant_check(P.can_reinstate_grant)),
    "reinstate_grant": ("grant", _grant_check(P.can_reinstate_grant)),
    "revoke_grant_from_form": ("grant", _grant_check(P.can_revoke_grant)),
    "revoke_grant": ("grant", _grant_check(P.can_revoke_grant)),
    "end_grant_from_form": ("grant", _grant_check(P.can_end_grant)),
    "end_grant": ("grant", _grant_check(P.can_end_grant)),
    "accept_grant_from_form": ("grant", _grant_check(P.can_join_grant)),
    "accept_grant": ("grant", _grant_check(P.can_join_grant)),
    "decline_grant_from_form": ("grant", _grant_check(P.can_join_grant)),
    "decline_grant": ("grant", _grant_check(P.can_join_grant)),
    "dp_query": ("grant", _grant_check(P.can_use_grant)),
    "dp_preview": ("grant", _grant_check(P.can_use_grant)),
    "workspace_export": ("grant", _grant_check(P.can_request_export)),
    "comment_from_form": ("export", _export_check(P.can_edit_export, P.can_review_export)),
    "api_comment": ("export", _export_check(P.can_edit_export, P.can_review_export)),
    "group_from_form": ("export", EDIT_EXPORT),
    "add_files_from_form": ("export", EDIT_EXPORT),
    "api_add_files": ("export", EDIT_EXPORT),
    "submit_export_from_form": ("export", EDIT_EXPORT),
    "submit_export": ("export", EDIT_EXPORT),
    "withdraw_export_from_form": ("export", EDIT_EXPORT),
    "withdraw_export": ("export", EDIT_EXPORT),
    "complete_review_export_from_form": ("export", REVIEW_EXPORT),
    "complete_review_export": ("export", REVIEW_EXPORT),
    "release_export_from_form": ("export", DECIDE_EXPORT),
    "release_export": ("export", DECIDE_EXPORT),
    "approve_export_from_form": ("export", DECIDE_EXPORT),
    "approve_export": ("export", DECIDE_EXPORT),
    "reject_export_from_form": ("export", DECIDE_EXPORT),
    "reject_export": ("export", DECIDE_EXPORT),
    "return_export_from_form": ("export", DECIDE_EXPORT),
    "return_export": ("export", DECIDE_EXPORT),
    "approve_export_file_from_form": ("export", REVIEW_EXPORT),
    "approve_export_file": ("export", REVIEW_EXPORT),
    "changes_export_file_from_form": ("export", REVIEW_EXPORT),
    "changes_export_file": ("export", REVIEW_EXPORT),
    "answer_export_file_from_form": ("export", EDIT_EXPORT),
    "answer_export_file": ("export", EDIT_EXPORT),
    "update_export_file_from_form": ("export", EDIT_EXPORT),
    "update_export_file": ("export", EDIT_EXPORT),
    "withdraw_export_file_from_form": ("export", EDIT_EXPORT),
    "withdraw_export_file": ("export", EDIT_EXPORT),
    "destroy_from_form": ("destruction", _destruction),
    "api_destroy": ("destruction", _destruction),
    "add_role": ("platform", _manage),
    "remove_role": ("platform", _manage),
    "register_source": ("platform", _manage),
    "run_harvest": ("platform", _manage),
}


def state_changing_routes() -> list[APIRoute]:
    return [
        route
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute) and route.methods - {"GET", "HEAD", "OPTIONS"}
    ]


def test_every_state_changing_route_is_mapped() -> None:
    routes = state_changing_routes()
    assert len(routes) > 60
    unmapped = sorted(f"{r.name} {sorted(r.methods)} {r.path}" for r in routes)
    unmapped = [r for r in unmapped if r.split()[0] not in ROUTE_PERMISSION]
    assert unmapped == []
    gone = set(ROUTE_PERMISSION) - {r.name for r in routes}
    assert gone == set()


# ---- calling ----------------------------------------------------------------------------------

FORM = {
    "comment": "意见 a comment",
    "reason": "原因 a reason",
    "text": "意见 a comment",
    "epsilon": "1",
    "role": "officer",
    "user": "rita",
    "name": "rita",
    "domain": "*",
    "url": "https://example.org/catalog.ttl",
    "title": "x",
    "policy_yaml": "columns: {}\n",
    "files": "out.csv",
    "kind": "person",
    "dataset_ids": "tickets",
    "purpose": "研究",
    "level": "L2",
    "starts_on": date.today().isoformat(),
    "ends_on": (date.today() + timedelta(days=30)).isoformat(),
    "agreement_accepted": "on",
    "commitment_accepted": "on",
    "accept": "true",
    "id": "tickets",
    "total": "10",
    "per_person": "5",
}
JSON = {**FORM, "dataset_ids": ["tickets"], "files": ["out.csv"], "accept": True}
JSON["agreement_accepted"] = JSON["commitment_accepted"] = True
DP_QUERY = {"dataset": "tickets", "kind": "count", "epsilon": "0.1"}


def _url(route: APIRoute, kind: str, id_: Any) -> str:
    path = route.path
    for name in ("application_id", "grant_id", "request_id", "dataset_id"):
        path = path.replace("{" + name + "}", str(id_))
    path = path.replace("{file_id}", "1").replace("{group}", "default")
    path = path.replace("{name}", "package_create").replace("{source_id}", "1")
    return PREFIX + path


def _headers(world: World, who: str) -> dict[str, str]:
    name = PEOPLE[who][0]
    if who == CREDENTIAL:
        return {"Authorization": f"workspace {world.credential}"}
    return auth_header(name) if name else {}


def _send(world: World, route: APIRoute, url: str, who: str) -> Any:
    headers = {"accept": "application/json", **_headers(world, who)}
    method = sorted(route.methods)[0]
    bodies = getattr(route.dependant, "body_params", [])
    form = any(type(b.field_info).__name__ in ("Form", "File") for b in bodies)
    if any(type(b.field_info).__name__ == "File" for b in bodies):
        files = {"file": ("t.csv", b"a,b\n1,2\n", "text/csv")}
        return world.client.request(method, url, headers=headers, data=FORM, files=files)
    if form:
        return world.client.request(method, url, headers=headers, data=FORM)
    if route.name.startswith("dp_"):
        return world.client.request(method, url, headers=headers, json=DP_QUERY)
    return world.client.request(method, url, headers=headers, json=JSON)


class Watch:
    """Whether anything was committed: SQLite's ``data_version`` moves on every commit of
    another connection; only then are all rows and the audit log's files compared."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.db = sqlite3.connect(world.portal.settings.database_url.removeprefix("sqlite:///"))
        self.version = -1
        self.digest = ""

    def _version(self) -> int:
        return int(self.db.execute("PRAGMA data_version").fetchone()[0])

    def _digest(self) -> str:
        digest = hashlib.sha256()
        tables = self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")
        for (table,) in sorted(tables.fetchall()):
            for row in self.db.execute(f'SELECT * FROM "{table}"'):
                digest.update(repr(row).encode())
        for path in sorted(self.world.portal.settings.audit_dir.rglob("*")):
            if path.is_file():
                digest.update(f"{path}:{path.stat().st_size}".encode())
        return digest.hexdigest()

    def events(self) -> int:
        tables = ("audit_outbox", "audit_index")
        queries = (f"SELECT COUNT(*) FROM {t}" for t in tables)
        return sum(int(self.db.execute(q).fetchone()[0]) for q in queries)

    def before(self) -> None:
        version = self._version()
        if version != self.version:
            self.version, self.digest = version, self._digest()

    def changed(self) -> bool:
        if self._version() == self.version:
            return False
        before = self.digest
        self.before()
        return self.digest != before


def _succeeded(response: Any) -> bool:
    if 200 <= response.status_code < 300:
        return True
    if 300 <= response.status_code < 400:
        return "login" not in response.headers.get("location", "")
    return False


def _allowed(world: World, check: Checker, who: str, id_: Any) -> bool:
    if who == CREDENTIAL:
        return False  # a workspace credential acts on its own grant's workspace API only
    with world.portal.sessions() as session:
        return check(world.portal, session, PEOPLE[who][0], id_)


@pytest.mark.parametrize("route", state_changing_routes(), ids=lambda r: r.name)
def test_refused_callers_change_nothing(world: World, route: APIRoute) -> None:
    kind, check = ROUTE_PERMISSION[route.name]
    holes = []
    watch = Watch(world)
    for state, id_ in world.objects[kind].items():
        url = _url(route, kind, id_)
        for who in PEOPLE:
            if _allowed(world, check, who, id_):
                continue
            watch.before()
            events = watch.events()
            response = _send(world, route, url, who)
            where = f"{route.name} {state} as {who}: {response.status_code}"
            if response.status_code >= 500:
                holes.append(f"{where} (server error) {response.text[:120]}")
            elif _succeeded(response):
                holes.append(f"{where} (succeeded, but permissions refuse)")
            if watch.events() != events:
                holes.append(f"{where} (wrote an audit event)")
            elif watch.changed():
                holes.append(f"{where} (changed the database)")
    watch.db.close()
    assert holes == [], "\n".join(holes)


# ---- not found is not found -------------------------------------------------------------------


def dataset_reads() -> list[str]:
    """Every GET route naming a dataset, with each DCAT format, and the CKAN reads."""
    paths = [
        route.path
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute) and "GET" in route.methods and "{dataset_id}" in route.path
    ]
    urls = [p.replace("{fmt}", f) for p in paths for f in ("jsonld", "ttl", "rdf")]
    urls = sorted(set(urls))
    urls += [f"/api/{v}action/{a}?id={{dataset_id}}" for v in ("3/", "") for a in CKAN_READS]
    return urls


CKAN_READS = ("package_show", "resource_show", "package_activity_list")


def _read(world: World, who: str, path: str, dataset_id: str, accept: str) -> tuple[int, str]:
    headers = {"accept": accept, **_headers(world, who)}
    response = world.client.get(PREFIX + path.replace("{dataset_id}", dataset_id), headers=headers)
    return response.status_code, response.text.replace(dataset_id, "ID")


def _may_read(world: World, who: str, dataset_id: str) -> bool:
    from open_portal.models import Dataset

    with world.portal.sessions() as session:
        dataset = session.get(Dataset, dataset_id)
        assert dataset is not None
        return permissions.can_read_dataset(world.portal.policy, PEOPLE[who][0], dataset)


def test_hidden_datasets_answer_as_unknown_ids(world: World) -> None:
    urls = dataset_reads()
    assert len(urls) > 10
    differ = []
    for hidden in HIDDEN.values():
        askers = [who for who in PEOPLE if not _may_read(world, who, hidden)]
        assert "stranger" in askers and "data owner" not in askers
        for who in askers:
            for url in urls:
                for accept in ("application/json", "text/html"):
                    unknown = _unknown(world, who, url, accept)
                    answer = _read(world, who, url, hidden, accept)
                    if answer != unknown:
                        differ.append(f"{url} {hidden} as {who} ({accept}): {answer[0]}")
    assert differ == [], "\n".join(differ)


_UNKNOWN_ANSWERS: dict[tuple[str, str, str], tuple[int, str]] = {}


def _unknown(world: World, who: str, url: str, accept: str) -> tuple[int, str]:
    key = (who, url, accept)
    if key not in _UNKNOWN_ANSWERS:
        _UNKNOWN_ANSWERS[key] = _read(world, who, url, UNKNOWN, accept)
    return _UNKNOWN_ANSWERS[key]


def test_hidden_datasets_are_in_no_listing(world: World) -> None:
    lists = ["/dcat/catalog", "/dcat/catalog.ttl", "/api/3/action/package_list"]
    lists += [
        "/api/3/action/package_search?q=*",
        "/api/3/action/current_package_list_with_resources",
    ]
    lists += ["/", "/datasets", "/api/datasets"]
    leaks = []
    for who in ("anonymous", "stranger", "other-dept owner", "team member"):
        for url in lists:
            response = world.client.get(PREFIX + url, headers=_headers(world, who))
            assert response.status_code < 500, url
            leaks += [f"{url} as {who}: {h}" for h in HIDDEN.values() if h in response.text]
    assert leaks == []


# ---- the duties, through both routes of each action ---------------------------------------------


@pytest.fixture
def duties(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Portal, TestClient]]:
    """A fresh portal: an L3 dataset owned by an owner who is also an officer."""
    monkeypatch.setenv("PDS_WORKSPACE_ROOT", str(tmp_path / "workspaces"))
    monkeypatch.setenv("PDS_WORKSPACE_RUN_DIR", str(tmp_path / "run"))
    monkeypatch.delenv("JUPYTERHUB_API_URL", raising=False)
    with portal_at(tmp_path / "data", f"sqlite:///{tmp_path / 'p.sqlite'}") as portal:
        add_dataset(portal, "payments", Level.L3, owner="owen", publisher="hotline")
        for name, roles in PEOPLE.values():
            if name:
                users.ensure_user(portal, name=name)
            for role, domain in roles:
                portal.policy.assign_role(name, role, domain)
        portal.policy.reload()
        names = sorted({name for name, _ in PEOPLE.values() if name})
        with TestClient(
            app_for(portal, names), follow_redirects=False, raise_server_exceptions=False
        ) as client:
            drained(portal)
            yield portal, client


def _l3_application(portal: Portal, epsilon: str = "1") -> int:
    return submitted_application(
        portal, ["payments"], Level.L3, actor="alice", team_members=["tess"], epsilon=epsilon
    )


def _approve(client: TestClient, who: str, app_id: int, via: str) -> int:
    headers = auth_header(PEOPLE[who][0])
    if via == "form":
        url = f"{PREFIX}/applications/{app_id}/approve"
        return client.post(url, headers=headers, data={"comment": "同意 ok"}).status_code
    url = f"{PREFIX}/api/applications/{app_id}/approve"
    return client.post(url, headers=headers, json={"comment": "同意 ok"}).status_code


def _status(portal: Portal, app_id: int) -> ApplicationStatus:
    with portal.sessions() as session:
        application = session.get(Application, app_id)
        assert application is not None
        return application.status


@pytest.mark.parametrize("first", ["api", "form"])
@pytest.mark.parametrize("who", ["officer", "owner and officer"])
def test_one_person_never_gives_both_l3_approvals(
    duties: tuple[Portal, TestClient], who: str, first: str
) -> None:
    portal, client = duties
    app_id = _l3_application(portal)
    second = "form" if first == "api" else "api"
    assert _approve(client, who, app_id, first) in (200, 303)
    assert _approve(client, who, app_id, second) >= 400
    assert _approve(client, who, app_id, first) >= 400
    assert _status(portal, app_id) == ApplicationStatus.SUBMITTED
    other = "officer" if who != "officer" else "owner and officer"
    assert _approve(client, other, app_id, second) in (200, 303)
    assert _status(portal, app_id) == ApplicationStatus.APPROVED


@pytest.mark.parametrize("via", ["api", "form"])
@pytest.mark.parametrize("who", ["applicant", "officer on the team"])
def test_applicant_and_team_never_review(
    duties: tuple[Portal, TestClient], who: str, via: str
) -> None:
    portal, client = duties
    app_id = _l3_application(portal)
    for action in ("approve", "return", "reject"):
        url = f"{PREFIX}/{'api/' if via == 'api' else ''}applications/{app_id}/{action}"
        headers = auth_header(PEOPLE[who][0])
        body = {"comment": "意见 a comment"}
        sent = client.post(
            url, headers=headers, **({"json": body} if via == "api" else {"data": body})
        )
        assert 400 <= sent.status_code < 500, (action, sent.status_code)
    assert _status(portal, app_id) == ApplicationStatus.SUBMITTED


def test_epsilon_beyond_the_dataset_cap_is_refused_at_approval(
    duties: tuple[Portal, TestClient],
) -> None:
    portal, client = duties
    catalog.set_privacy_budget(portal, actor="owen", dataset_id="payments", total="2")
    app_id = _l3_application(portal, epsilon="5")
    first = _approve(client, "owner and officer", app_id, "api")
    second = _approve(client, "officer", app_id, "form")
    assert first >= 400 or second >= 400
    assert max(first, second) < 500
    assert _status(portal, app_id) == ApplicationStatus.SUBMITTED
    with portal.sessions() as session:
        assert session.query(Grant).count() == 0
