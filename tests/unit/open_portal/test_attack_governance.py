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
from typing import Any

import pytest
from factories import add_dataset, drained, portal_at
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
from open_portal.service import users, workspace_credentials
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
            drained(portal)  # the assessments resumed at start run before any snapshot
            credential = workspace_credentials.issue(portal, grant_id=OTHER_GRANT, user="alice")
            names = sorted({name for name, _ in PEOPLE.values() if name})
            app = app_for(portal, names)
            with TestClient(app, follow_redirects=False, raise_server_exceptions=False) as c:
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
