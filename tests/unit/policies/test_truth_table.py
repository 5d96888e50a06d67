"""Every permission as a truth table: role × action × state → allowed?

The actions are read from ``open_portal.permissions`` (every ``can_…`` function), so a new
permission fails here until its row is written. Each is asked, through the real Casbin policy
seeded from ``policies/default_policy.csv`` and real rows in a database, for every person below
in every state that its object can be in, and compared with ``EXPECTED``: for each function and
state, the set of people allowed (everyone else is refused). Application permissions do not
depend on the application's state (the state machine refuses what a state does not allow), so
their row is the same in every state, and the test checks that too.

The separation of duties of issue 13 is in the table: the applicant and the team never review
(``officer on the team``, ``owner on the team``); the two approvals of an L3 application come
from two people (``owner and officer`` approves as owner only); an invited team member uses
nothing before accepting (``invitee``); the officer who started a destruction does not confirm
it (``destruction starter``), nor does an officer on the grant's team.
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from open_portal import permissions
from open_portal.models import (
    ApplicantKind,
    Application,
    ApplicationDataset,
    ApplicationStatus,
    Base,
    Dataset,
    DatasetVersion,
    ExportRequest,
    ExportStatus,
    Grant,
    GrantDataset,
    GrantInvitation,
    GrantMember,
    GrantStatus,
    InvitationStatus,
    Level,
    OpenClass,
)
from policies import AccessDenied, Policy, Resource, Subject
from policies.store import metadata, read_policy_csv, seed_default_policy

ROOT = Path(__file__).resolve().parents[3]
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

# who -> (user name, roles as (role, domain))
PEOPLE: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "anonymous": ("", []),
    "researcher": ("rita", [("researcher", "*")]),
    "operator": ("otto", [("operator", "*")]),
    # applied, holds the grant, a member, wrote the export request
    "applicant": ("alice", [("researcher", "*")]),
    # on the application's team, accepted the invitation: a member of the grant
    "team member": ("tom", [("researcher", "*")]),
    # on the team, invited to the grant, has not answered
    "invitee": ("ivan", [("researcher", "*")]),
    # an officer listed on the team, who joined the grant
    "officer on the team": ("tess", [("researcher", "*"), ("officer", "*")]),
    # owns the main dataset (department hotline)
    "data owner": ("olga", [("owner", "dept:hotline")]),
    # owns another dataset of the application and is on its team (declined the grant)
    "owner on the team": ("orla", [("owner", "dept:hotline")]),
    # owns a third dataset of the application and is also an officer
    "owner and officer": ("owen", [("owner", "dept:hotline"), ("officer", "*")]),
    # an owner in another department, owning none of these datasets
    "other-dept owner": ("oleg", [("owner", "dept:traffic")]),
    "officer": ("oscar", [("officer", "*")]),
    # the officer who started the grant's destruction
    "destruction starter": ("sofia", [("officer", "*")]),
    "admin": ("ada", [("admin", "*")]),
}
EVERYONE = set(PEOPLE)
OFFICERS = {
    "officer",
    "officer on the team",
    "owner and officer",
    "destruction starter",
}
MEMBERS = {"applicant", "team member", "officer on the team"}
GRANT_OWNERS = {"data owner", "owner on the team", "owner and officer"}
STARTED_BY = "sofia"

APPLICATION_STATES = ("draft", "submitted", "approved")
GRANT_STATES = ("active", "suspended", "expired", "ended", "revoked", "destroyed")
EXPORT_STATES = ("pending", "submitted", "returned", "approved", "released", "rejected")
DATASET_STATES = ("L1", "L2", "L2 draft", "L3", "L4")


def same(allowed: set[str], states: tuple[str, ...]) -> dict[str, set[str]]:
    return {state: set(allowed) for state in states}


def only(allowed: set[str], when: tuple[str, ...], states: tuple[str, ...]) -> dict[str, set[str]]:
    return {state: set(allowed) if state in when else set() for state in states}


SEES_DRAFTS = {"data owner", "officer", "officer on the team", "owner and officer"}
SEES_DRAFTS |= {"destruction starter", "admin"}
PUBLIC = EVERYONE
HELD = ("submitted", "returned", "approved", "released")
NOT_MEMBERS = OFFICERS - MEMBERS
APPLICATION_READERS = {"applicant", "team member", "invitee", "officer on the team"}
APPLICATION_READERS |= GRANT_OWNERS | OFFICERS | {"admin"}
GRANT_READERS = MEMBERS | {"invitee"} | GRANT_OWNERS | OFFICERS | {"admin"}

# function -> state -> the people allowed
EXPECTED: dict[str, dict[str, set[str]]] = {
    # the platform
    "can_read_audit": {"-": OFFICERS | {"admin"}},
    "can_manage_platform": {"-": {"admin"}},
    "can_review_applications": {"-": OFFICERS | GRANT_OWNERS | {"other-dept owner"}},
    "can_review_exports": {"-": OFFICERS},
    # the catalog: L4 and drafts answer as unknown ids except to their owner, officers, admins
    "can_read_dataset": {
        "L1": PUBLIC,
        "L2": PUBLIC,
        "L2 draft": SEES_DRAFTS,
        "L3": PUBLIC,
        "L4": SEES_DRAFTS,
    },
    "can_download_open_release": only(PUBLIC, ("L1",), DATASET_STATES),
    "can_read_assessment": {
        "L1": PUBLIC,
        "L2": {"data owner"} | OFFICERS | {"admin"},
        "L2 draft": {"data owner"} | OFFICERS | {"admin"},
        "L3": {"data owner"} | OFFICERS | {"admin"},
        "L4": {"data owner"} | OFFICERS | {"admin"},
    },
    "can_update_dataset": same({"data owner", "admin"}, DATASET_STATES),
    "can_publish_dataset": {
        "hotline": GRANT_OWNERS,
        "traffic": {"other-dept owner"},
    },
    "can_apply": {
        "person": {
            "researcher",
            "applicant",
            "team member",
            "invitee",
            "officer on the team",
        },
        "organisation": {"operator"},
    },
    # applications
    "can_read_application": same(APPLICATION_READERS, APPLICATION_STATES),
    "can_edit_application": same({"applicant"}, APPLICATION_STATES),
    "can_review_application_as_owner": same(
        {"data owner", "owner and officer"}, APPLICATION_STATES
    ),
    "can_review_application_as_officer": same(
        {"officer", "destruction starter"}, APPLICATION_STATES
    ),
    # grants
    "can_read_grant": same(GRANT_READERS, GRANT_STATES),
    "can_join_grant": same({"invitee"}, GRANT_STATES),
    "can_use_grant": only(MEMBERS, ("active",), GRANT_STATES),
    "can_suspend_grant": same(OFFICERS, GRANT_STATES),
    "can_reinstate_grant": same(OFFICERS, GRANT_STATES),
    "can_revoke_grant": same(OFFICERS | GRANT_OWNERS, GRANT_STATES),
    "can_end_grant": same({"applicant"}, GRANT_STATES),
    "can_start_destruction": same(OFFICERS | {"applicant"}, GRANT_STATES),
    "can_confirm_destruction": same(NOT_MEMBERS - {"destruction starter"}, GRANT_STATES),
    "can_request_export": only(MEMBERS, ("active",), GRANT_STATES),
    # export requests, on an active grant
    "can_read_export": same(MEMBERS | OFFICERS | {"admin"}, EXPORT_STATES),
    "can_edit_export": same(MEMBERS, EXPORT_STATES),
    "can_review_export": same(NOT_MEMBERS, EXPORT_STATES),
    "can_decide_export": same(NOT_MEMBERS, EXPORT_STATES),
    "can_download_export": same(MEMBERS, EXPORT_STATES),
    "can_view_held_files": only(NOT_MEMBERS, HELD, EXPORT_STATES),
}


# ---- the world the table is asked about ---------------------------------------------------


def _dataset(
    session: Session, id_: str, level: Level, owner: str, dept: str, confirmed: bool
) -> Dataset:
    dataset = Dataset(
        id=id_,
        title_zh=id_,
        title_en=id_,
        publisher=dept,
        owner=owner,
        level=level,
        open_class=OpenClass.RESTRICTED,
    )
    dataset.versions.append(
        DatasetVersion(
            number=1,
            file_name=f"{id_}.csv",
            file_format="csv",
            raw_sha256="0" * 64,
            wrapped_key=b"k",
            policy_confirmed=confirmed,
            uploaded_by=owner,
        )
    )
    session.add(dataset)
    return dataset


class World:
    """Real rows: datasets in every catalog state, an application in each state, a grant in
    each state with the same people, and an export request in each state on the active grant."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.datasets = {
            "L1": _dataset(session, "open", Level.L1, "olga", "hotline", True),
            "L2": _dataset(session, "tickets", Level.L2, "olga", "hotline", True),
            "L2 draft": _dataset(session, "draft", Level.L2, "olga", "hotline", False),
            "L3": _dataset(session, "payments", Level.L3, "olga", "hotline", True),
            "L4": _dataset(session, "secret", Level.L4, "olga", "hotline", True),
        }
        _dataset(session, "calls", Level.L2, "orla", "hotline", True)
        _dataset(session, "routes", Level.L2, "owen", "hotline", True)
        _dataset(session, "traffic", Level.L2, "oleg", "traffic", True)
        requested = ["tickets", "calls", "routes"]
        self.applications = {
            state: self._application(requested, ApplicationStatus(state))
            for state in APPLICATION_STATES
        }
        self.grants = {
            state: self._grant(f"g{i + 1:04d}", requested, state, self.applications["approved"])
            for i, state in enumerate(GRANT_STATES)
        }
        self.exports = {
            state: self._export(self.grants["active"], ExportStatus(state))
            for state in EXPORT_STATES
        }
        session.flush()

    def _application(self, datasets: list[str], status: ApplicationStatus) -> Application:
        application = Application(
            applicant="alice",
            kind=ApplicantKind.PERSON,
            purpose="研究",
            team_members=["tom", "ivan", "tess", "orla"],
            level=Level.L3,
            starts_on=date(2026, 1, 1),
            ends_on=date(2026, 12, 31),
            status=status,
            datasets=[ApplicationDataset(dataset_id=d) for d in datasets],
        )
        self.session.add(application)
        self.session.flush()
        return application

    def _grant(self, id_: str, datasets: list[str], state: str, app: Application) -> Grant:
        grant = Grant(
            id=id_,
            application_id=app.id
            if state == "active"
            else self._application(datasets, app.status).id,
            holder="alice",
            level=Level.L3,
            starts_at=NOW - timedelta(days=30),
            ends_at=NOW + timedelta(days=30) if state != "expired" else NOW - timedelta(days=1),
            status=GrantStatus(state),
        )
        for dataset_id in datasets:
            grant.datasets.append(GrantDataset(dataset_id=dataset_id, version_id=1))
        for name in ("alice", "tom", "tess"):
            grant.members.append(GrantMember(user_name=name))
        grant.invitations.append(GrantInvitation(user_name="ivan", status=InvitationStatus.INVITED))
        grant.invitations.append(
            GrantInvitation(user_name="orla", status=InvitationStatus.DECLINED)
        )
        self.session.add(grant)
        return grant

    def _export(self, grant: Grant, status: ExportStatus) -> ExportRequest:
        request = ExportRequest(grant_id=grant.id, author="alice", status=status)
        self.session.add(request)
        return request


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Policy, World]]:
    engine = create_engine(f"sqlite:///{tmp_path_factory.mktemp('truth') / 'p.sqlite'}")
    metadata.create_all(engine)
    Base.metadata.create_all(engine)
    seed_default_policy(engine)
    policy = Policy(engine)
    for name, roles in PEOPLE.values():
        for role, domain in roles:
            policy.assign_role(name, role, domain)
    with Session(engine) as session:
        yield policy, World(session)
    engine.dispose()


# ---- asking ---------------------------------------------------------------------------------


def can_functions() -> dict[str, Callable[..., bool]]:
    return {
        name: function
        for name, function in inspect.getmembers(permissions, inspect.isfunction)
        if name.startswith("can_") and function.__module__ == permissions.__name__
    }


def states_of(function: Callable[..., bool]) -> tuple[str, ...]:
    params = inspect.signature(function).parameters
    if "request" in params:
        return EXPORT_STATES
    if "grant" in params:
        return GRANT_STATES
    if "application" in params:
        return APPLICATION_STATES
    if "dataset" in params:
        return DATASET_STATES
    if "publisher" in params:
        return ("hotline", "traffic")
    if "kind" in params:
        return ("person", "organisation")
    return ("-",)


def ask(function: Callable[..., bool], policy: Policy, world: World, who: str, state: str) -> bool:
    user = PEOPLE[who][0]
    params = inspect.signature(function).parameters
    args: dict[str, Any] = {"policy": policy, "user": user}
    if "session" in params:
        args["session"] = world.session
    if "now" in params:
        args["now"] = NOW
    if "started_by" in params:
        args["started_by"] = STARTED_BY
    if "request" in params:
        args["request"] = world.exports[state]
    elif "grant" in params:
        args["grant"] = world.grants[state]
    elif "application" in params:
        args["application"] = world.applications[state]
        if "dataset" in params:  # an owner decides for the dataset they own
            owned = [world.session.get(Dataset, d) for d in args["application"].dataset_ids]
            mine = [d for d in owned if d is not None and d.owner == user]
            args["dataset"] = mine[0] if mine else world.datasets["L2"]
    elif "dataset" in params:
        args["dataset"] = world.datasets[state]
    elif "publisher" in params:
        args["publisher"] = state
    elif "kind" in params:
        args["kind"] = ApplicantKind(state)
    return function(**args)


def table() -> list[tuple[str, str]]:
    return [(name, state) for name, f in sorted(can_functions().items()) for state in states_of(f)]


def test_every_permission_has_its_row() -> None:
    assert set(EXPECTED) == set(can_functions())
    for name, function in can_functions().items():
        assert set(EXPECTED[name]) == set(states_of(function)), name


@pytest.mark.parametrize(("name", "state"), table())
def test_truth_table(world: tuple[Policy, World], name: str, state: str) -> None:
    policy, objects = world
    function = can_functions()[name]
    allowed = {who for who in PEOPLE if ask(function, policy, objects, who, state)}
    assert allowed == EXPECTED[name][state]


@pytest.mark.parametrize(("name", "state"), table())
def test_check_raises_exactly_when_can_refuses(
    world: tuple[Policy, World], name: str, state: str
) -> None:
    """``check_can_X`` raises ``AccessDenied`` for those ``can_X`` refuses, and no one else."""
    policy, objects = world
    check = getattr(permissions, f"check_{name}")
    refused = set()
    for who in PEOPLE:
        try:
            ask(check, policy, objects, who, state)
        except AccessDenied:
            refused.add(who)
    assert refused == EVERYONE - EXPECTED[name][state]


def test_every_can_has_its_check_and_back() -> None:
    names = {n for n, _ in inspect.getmembers(permissions, inspect.isfunction)}
    cans = {n for n in names if n.startswith("can_")}
    checks = {n.removeprefix("check_") for n in names if n.startswith("check_can_")}
    assert cans == checks
    for name in cans:
        can = inspect.signature(getattr(permissions, name)).parameters
        check = inspect.signature(getattr(permissions, f"check_{name}")).parameters
        assert list(can) == list(check), name


def test_every_can_is_used() -> None:
    """Each permission is asked somewhere outside the module (a route, a service, the hub, a
    guard), directly or through a helper of the module that is (``nav_rights``, ...)."""
    sources = "\n".join(
        path.read_text()
        for package in ("open_portal", "sandbox")
        for path in sorted((ROOT / package).rglob("*.py"))
        if path.relative_to(ROOT).as_posix() != "open_portal/permissions.py"
    )
    used = set(re.findall(r"\bpermissions\.(?:check_)?(\w+)\b", sources))
    module = ast.parse((ROOT / "open_portal" / "permissions.py").read_text())
    for helper in module.body:
        if isinstance(helper, ast.FunctionDef) and helper.name in used:
            called = {
                n.func.id
                for n in ast.walk(helper)
                if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
            }
            used |= called
    assert sorted(set(can_functions()) - used) == []


# ---- the policy itself ----------------------------------------------------------------------


def test_unknown_action_is_denied(world: tuple[Policy, World]) -> None:
    policy, _ = world
    assert not policy.can(Subject("ada"), "delete_everything", Resource("admin"))


def test_role_change_in_database_applies_without_restart(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'p.sqlite'}")
    metadata.create_all(engine)
    seed_default_policy(engine)
    writer, reader = Policy(engine), Policy(engine, max_age=0)
    assert not permissions.can_read_audit(reader, "neo")
    writer.assign_role("neo", "officer")
    assert permissions.can_read_audit(reader, "neo")
    writer.remove_role("neo", "officer")
    assert not permissions.can_read_audit(reader, "neo")


def test_seeding_keeps_role_assignments(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'p.sqlite'}")
    metadata.create_all(engine)
    seed_default_policy(engine)
    Policy(engine).assign_role("neo", "admin")
    assert seed_default_policy(engine) == len(read_policy_csv())
    assert Policy(engine).roles_of("neo") == ["admin"]
