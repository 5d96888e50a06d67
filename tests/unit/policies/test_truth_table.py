"""Role × action × resource state → allowed? The policy as a truth table."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from policies import Policy, Resource, Subject
from policies.store import metadata, read_policy_csv, seed_default_policy


@pytest.fixture(scope="module")
def policy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Policy]:
    engine = create_engine(f"sqlite:///{tmp_path_factory.mktemp('policy') / 'p.sqlite'}")
    metadata.create_all(engine)
    seed_default_policy(engine)
    p = Policy(engine)
    for user, role, domain in [
        ("rita", "researcher", "*"),
        ("otto", "operator", "*"),
        ("olga", "owner", "dept:hotline"),
        ("oscar", "officer", "*"),
        ("ada", "admin", "*"),
    ]:
        p.assign_role(user, role, domain)
    yield p
    engine.dispose()


APP = {"kind": "person", "is_applicant": False, "is_team_member": False, "owns_a_dataset": False}
GRANT = {
    "is_member": False,
    "is_invited": False,
    "is_holder": False,
    "grant_usable": True,
    "owns_a_dataset": False,
    "started_destruction": False,
}
TEAM = {**APP, "is_team_member": True}

CASES: list[tuple[str, str, str, str, dict[str, Any], bool]] = [
    # who, action, resource, domain, attributes, allowed?
    ("", "read", "catalog", "*", {"level": "L1", "is_owner": False, "published": True}, True),
    ("", "read", "catalog", "*", {"level": "L3", "is_owner": False, "published": True}, True),
    ("", "read", "catalog", "*", {"level": "L4", "is_owner": False, "published": True}, False),
    ("", "read", "catalog", "*", {"level": "L2", "is_owner": False, "published": False}, False),
    ("rita", "read", "catalog", "*", {"level": "L2", "is_owner": False, "published": False}, False),
    (
        "olga",
        "read",
        "catalog",
        "dept:hotline",
        {"level": "L2", "is_owner": True, "published": False},
        True,
    ),
    ("oscar", "read", "catalog", "*", {"level": "L2", "is_owner": False, "published": False}, True),
    ("rita", "read", "catalog", "*", {"level": "L4", "is_owner": False, "published": True}, False),
    ("olga", "read", "catalog", "dept:hotline", {"level": "L4", "is_owner": True}, True),
    ("olga", "read", "catalog", "dept:traffic", {"level": "L4", "is_owner": True}, False),
    ("oscar", "read", "catalog", "*", {"level": "L4", "is_owner": False}, True),
    ("", "download", "release", "*", {"level": "L1", "is_owner": False, "published": True}, True),
    ("", "download", "release", "*", {"level": "L2", "is_owner": False}, False),
    ("rita", "download", "release", "*", {"level": "L2", "is_owner": False}, False),
    ("olga", "publish", "dataset", "dept:hotline", {}, True),
    ("olga", "publish", "dataset", "dept:traffic", {}, False),
    ("rita", "publish", "dataset", "dept:hotline", {}, False),
    ("ada", "publish", "dataset", "dept:hotline", {}, False),
    ("rita", "create", "application", "*", {**APP, "kind": "person"}, True),
    ("rita", "create", "application", "*", {**APP, "kind": "organisation"}, False),
    ("otto", "create", "application", "*", {**APP, "kind": "organisation"}, True),
    ("otto", "create", "application", "*", {**APP, "kind": "person"}, False),
    ("oscar", "create", "application", "*", {**APP, "kind": "person"}, False),
    ("", "create", "application", "*", {**APP, "kind": "person"}, False),
    ("rita", "edit", "application", "*", {**APP, "is_applicant": True}, True),
    ("rita", "edit", "application", "*", {**APP, "is_applicant": False}, False),
    ("rita", "read", "application", "*", {**APP, "is_applicant": False}, False),
    ("olga", "read", "application", "dept:hotline", {**APP, "owns_a_dataset": True}, True),
    ("olga", "read", "application", "*", {**APP, "owns_a_dataset": True}, False),
    ("olga", "read", "application", "dept:hotline", {**APP, "owns_a_dataset": False}, False),
    ("oscar", "read", "application", "*", APP, True),
    (
        "olga",
        "review_as_owner",
        "application",
        "dept:hotline",
        {**APP, "owns_a_dataset": True},
        True,
    ),
    (
        "olga",
        "review_as_owner",
        "application",
        "dept:traffic",
        {**APP, "owns_a_dataset": True},
        False,
    ),
    (
        "olga",
        "review_as_owner",
        "application",
        "dept:hotline",
        {**APP, "owns_a_dataset": True, "is_applicant": True},
        False,
    ),
    (
        "oscar",
        "review_as_owner",
        "application",
        "dept:hotline",
        {**APP, "owns_a_dataset": True},
        False,
    ),
    ("oscar", "review_as_officer", "application", "*", APP, True),
    ("oscar", "review_as_officer", "application", "*", {**APP, "is_applicant": True}, False),
    ("olga", "review_as_officer", "application", "*", APP, False),
    ("rita", "review_as_officer", "application", "*", APP, False),
    ("rita", "use", "grant", "*", {**GRANT, "is_member": True}, True),
    ("rita", "use", "grant", "*", {**GRANT, "is_member": True, "grant_usable": False}, False),
    ("rita", "use", "grant", "*", {**GRANT, "is_member": False}, False),
    ("oscar", "use", "grant", "*", {**GRANT, "is_member": False}, False),
    ("rita", "read", "grant", "*", {**GRANT, "is_member": True}, True),
    ("rita", "read", "grant", "*", GRANT, False),
    ("oscar", "suspend", "grant", "*", GRANT, True),
    ("rita", "suspend", "grant", "*", {**GRANT, "is_holder": True, "is_member": True}, False),
    ("olga", "revoke", "grant", "dept:hotline", {**GRANT, "owns_a_dataset": True}, True),
    ("olga", "revoke", "grant", "dept:hotline", GRANT, False),
    ("rita", "end", "grant", "*", {**GRANT, "is_holder": True}, True),
    ("rita", "end", "grant", "*", {**GRANT, "is_member": True}, False),
    ("oscar", "read", "audit", "*", {}, True),
    ("rita", "read", "audit", "*", {}, False),
    ("olga", "read", "audit", "*", {}, False),
    ("ada", "manage", "admin", "*", {}, True),
    ("oscar", "manage", "admin", "*", {}, False),
    ("", "read", "home", "*", {}, True),
    ("mallory", "suspend", "grant", "*", GRANT, False),
    # separation of duties
    ("rita", "read", "application", "*", TEAM, True),
    ("rita", "edit", "application", "*", TEAM, False),
    (
        "olga",
        "review_as_owner",
        "application",
        "dept:hotline",
        {**TEAM, "owns_a_dataset": True},
        False,
    ),
    ("oscar", "review_as_officer", "application", "*", TEAM, False),
    ("oscar", "review_as_officer", "application", "*", {**APP, "owns_a_dataset": True}, False),
    ("rita", "join", "grant", "*", {**GRANT, "is_invited": True}, True),
    ("otto", "join", "grant", "*", {**GRANT, "is_invited": True}, True),
    ("rita", "join", "grant", "*", GRANT, False),
    ("rita", "join", "grant", "*", {**GRANT, "is_member": True}, False),
    ("oscar", "join", "grant", "*", {**GRANT, "is_invited": True}, True),
    ("", "join", "grant", "*", GRANT, False),
    ("olga", "read", "grant", "dept:hotline", {**GRANT, "is_invited": True}, True),
    ("rita", "read", "grant", "*", {**GRANT, "is_invited": True}, True),
    ("rita", "use", "grant", "*", {**GRANT, "is_invited": True}, False),
    ("oscar", "destroy", "grant", "*", GRANT, True),
    ("oscar", "destroy", "grant", "*", {**GRANT, "started_destruction": True}, False),
    ("oscar", "request_destruction", "grant", "*", GRANT, True),
    ("rita", "request_destruction", "grant", "*", {**GRANT, "is_holder": True}, True),
    ("rita", "request_destruction", "grant", "*", {**GRANT, "is_member": True}, False),
    ("rita", "destroy", "grant", "*", {**GRANT, "is_holder": True}, False),
]


@pytest.mark.parametrize(("who", "action", "kind", "domain", "attrs", "expected"), CASES)
def test_truth_table(
    policy: Policy,
    who: str,
    action: str,
    kind: str,
    domain: str,
    attrs: dict[str, Any],
    expected: bool,
) -> None:
    assert policy.can(Subject(who), action, Resource(kind, domain=domain, attrs=attrs)) is expected


def test_unknown_action_is_denied(policy: Policy) -> None:
    assert not policy.can(Subject("ada"), "delete_everything", Resource("admin"))


def test_role_change_in_database_applies_without_restart(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'p.sqlite'}")
    metadata.create_all(engine)
    seed_default_policy(engine)
    writer, reader = Policy(engine), Policy(engine, max_age=0)
    assert not reader.can(Subject("neo"), "read", Resource("audit"))
    writer.assign_role("neo", "officer")
    assert reader.can(Subject("neo"), "read", Resource("audit"))
    writer.remove_role("neo", "officer")
    assert not reader.can(Subject("neo"), "read", Resource("audit"))


def test_seeding_keeps_role_assignments(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'p.sqlite'}")
    metadata.create_all(engine)
    seed_default_policy(engine)
    Policy(engine).assign_role("neo", "admin")
    assert seed_default_policy(engine) == len(read_policy_csv())
    assert Policy(engine).roles_of("neo") == ["admin"]
