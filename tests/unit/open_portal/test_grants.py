"""Grant lifecycle: suspension, reinstatement, revocation, ending, expiry; who may do each."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from factories import add_dataset, join_team, portal_at, submitted_application

from open_portal import dates, ledger
from open_portal.exceptions import InvalidTransition
from open_portal.models import Application, Decision, Grant, GrantStatus, Level
from open_portal.service import applications, grants
from open_portal.service.context import Portal
from policies import AccessDenied

G = GrantStatus


@pytest.fixture
def portal(tmp_path: Path, database_url: str) -> Iterator[Portal]:
    with portal_at(tmp_path / "data", database_url) as p:
        add_dataset(p, "tickets", Level.L2, publisher="hotline")
        add_dataset(p, "payments", Level.L3, publisher="hrss")
        p.policy.assign_role("owner", "owner", "dept:hotline")
        p.policy.assign_role("owner", "owner", "dept:hrss")
        yield p


def grant_for(portal: Portal, level: Level = Level.L2) -> str:
    dataset = "tickets" if level == Level.L2 else "payments"
    app_id = submitted_application(portal, [dataset], level, epsilon="3", team_members=["operator"])
    applications.review(portal, actor="owner", application_id=app_id, decision=Decision.APPROVE)
    if level == Level.L3:
        applications.review(
            portal, actor="officer", application_id=app_id, decision=Decision.APPROVE
        )
    join_team(portal, f"g{app_id:04d}", ["operator"])
    return f"g{app_id:04d}"


def state(portal: Portal, grant_id: str) -> GrantStatus:
    with portal.sessions() as session:
        grant = session.get(Grant, grant_id)
        assert grant is not None
        return grant.status


def test_l3_grant_opens_its_privacy_ledger(portal: Portal) -> None:
    grant_id = grant_for(portal, Level.L3)
    balance = ledger.balance(portal.engine, grant_id)
    assert str(balance.budget) == "3"
    assert balance.spent == 0


def test_members_include_team(portal: Portal) -> None:
    grant_id = grant_for(portal)
    with portal.sessions() as session:
        grant = session.get(Grant, grant_id)
        assert grant is not None
        assert grant.member_names == ["operator", "researcher"]


def test_suspend_reinstate_revoke(portal: Portal) -> None:
    grant_id = grant_for(portal)
    stopped: list[str] = []
    grants.on_grant_stopped.append(lambda g: stopped.append(g.id))
    try:
        with pytest.raises(AccessDenied):
            grants.change_status(portal, actor="researcher", grant_id=grant_id, action="suspend")
        grants.change_status(
            portal, actor="officer", grant_id=grant_id, action="suspend", reason="检查"
        )
        assert state(portal, grant_id) == G.SUSPENDED
        assert stopped == [grant_id]
        with pytest.raises(InvalidTransition):
            grants.change_status(portal, actor="officer", grant_id=grant_id, action="suspend")
        grants.change_status(portal, actor="officer", grant_id=grant_id, action="reinstate")
        assert state(portal, grant_id) == G.ACTIVE
        grants.change_status(
            portal, actor="owner", grant_id=grant_id, action="revoke", reason="违规"
        )
        assert state(portal, grant_id) == G.REVOKED
        with pytest.raises(InvalidTransition):
            grants.change_status(portal, actor="officer", grant_id=grant_id, action="reinstate")
    finally:
        grants.on_grant_stopped.clear()
    types = [e.type for _, e in portal.audit.entries() if e.subject == f"grant:{grant_id}"]
    assert types == [
        "grant.created",
        "grant.member_joined",
        "grant.suspend",
        "grant.reinstate",
        "grant.revoke",
    ]


def test_only_the_holder_ends_a_grant(portal: Portal) -> None:
    grant_id = grant_for(portal)
    with pytest.raises(AccessDenied):
        grants.change_status(portal, actor="operator", grant_id=grant_id, action="end")
    now = portal.clock()
    portal.clock = lambda: now
    grants.change_status(portal, actor="researcher", grant_id=grant_id, action="end")
    assert state(portal, grant_id) == G.ENDED  # ended by its holder, not expired
    with portal.sessions() as session:
        grant = session.get(Grant, grant_id)
        assert grant is not None and grant.ends_at == now  # its term ends now
    with pytest.raises(InvalidTransition):
        grants.change_status(portal, actor="researcher", grant_id=grant_id, action="end")


@pytest.mark.parametrize("time_zone", ["Asia/Shanghai", "UTC", "America/New_York"])
def test_the_grant_ends_on_the_applications_last_day(portal: Portal, time_zone: str) -> None:
    """The application's end date and the grant's last day are the same day, where users are."""
    portal.settings = portal.settings.model_copy(update={"time_zone": time_zone})
    app_id = submitted_application(portal, ["tickets"])
    applications.review(portal, actor="owner", application_id=app_id, decision=Decision.APPROVE)
    with portal.sessions() as session:
        grant = session.get(Grant, f"g{app_id:04d}")
        application = session.get(Application, app_id)
        assert grant is not None and application is not None
        ends_on = application.ends_on
        assert dates.last_day(grant.ends_at, time_zone) == ends_on
        local_end = grant.ends_at.astimezone(dates.zone(time_zone))
        assert (local_end.date(), local_end.time()) == (ends_on + dt.timedelta(days=1), dt.time())


def test_expiry(portal: Portal) -> None:
    grant_id = grant_for(portal)
    later = portal.clock() + dt.timedelta(days=200)
    portal.clock = lambda: later
    assert [g.id for g in grants.expire_due(portal)] == [grant_id]
    assert state(portal, grant_id) == G.EXPIRED
    assert grants.expire_due(portal) == []


def test_usage_is_read_from_the_audit_log(portal: Portal) -> None:
    from audit import AuditEvent
    from open_portal.service.usage import grant_usage

    grant_id = grant_for(portal)
    start = portal.clock()
    for kind, minutes in (("workspace.started", 0), ("workspace.stopped", 30)):
        portal.audit.append(
            AuditEvent(
                type=kind,
                actor="researcher",
                subject=f"grant:{grant_id}",
                time=start + dt.timedelta(minutes=minutes),
            )
        )
    with portal.sessions() as session:
        grant = session.get(Grant, grant_id)
        assert grant is not None
        usage = grant_usage(portal, grant)
    assert usage.workspace_starts == 1
    assert usage.workspace_seconds == pytest.approx(1800)


def test_revoking_closes_the_privacy_ledger(portal: Portal) -> None:
    grant_id = grant_for(portal, Level.L3)
    ledger.reserve(portal.engine, grant_id, "0.5", actor="researcher", query_hash="q1")
    grants.change_status(portal, actor="officer", grant_id=grant_id, action="revoke", reason="违规")
    with pytest.raises(ledger.LedgerRefusal):
        ledger.reserve(portal.engine, grant_id, "0.1", actor="researcher", query_hash="q2")
    assert str(ledger.balance(portal.engine, grant_id).spent) == "0.5"
