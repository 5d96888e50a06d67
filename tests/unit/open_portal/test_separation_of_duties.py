"""Separation of duties: who may not decide what, whatever roles they hold."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from factories import add_dataset, join_team, portal_at, submitted_application

from open_portal.exceptions import Forbidden, InvalidTransition, NotFound
from open_portal.models import (
    Application,
    ApplicationStatus,
    Dataset,
    DatasetVersion,
    Decision,
    Grant,
    GrantDestruction,
    GrantStatus,
    Level,
)
from open_portal.service import applications, destruction, grants, users
from open_portal.service.context import Portal
from policies import AccessDenied


@pytest.fixture
def portal(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Portal]:
    monkeypatch.setenv("PDS_WORKSPACE_ROOT", str(tmp_path / "workspaces"))
    monkeypatch.setenv("PDS_WORKSPACE_RUN_DIR", str(tmp_path / "run"))
    monkeypatch.delenv("JUPYTERHUB_API_URL", raising=False)
    with portal_at(tmp_path / "data", database_url) as p:
        add_dataset(p, "tickets", Level.L2, publisher="hotline")
        add_dataset(p, "payments", Level.L3, publisher="hrss")
        for dept in ("hotline", "hrss"):
            p.policy.assign_role("owner", "owner", f"dept:{dept}")
        for name in ("ana", "olive"):
            users.ensure_user(p, name=name)
        p.policy.assign_role("ana", "researcher")
        p.policy.reload()
        yield p


def status(portal: Portal, application_id: int) -> ApplicationStatus:
    with portal.sessions() as session:
        app = session.get(Application, application_id)
        assert app is not None
        return app.status


def test_an_officer_on_the_team_cannot_co_approve(portal: Portal) -> None:
    app_id = submitted_application(portal, ["payments"], Level.L3, team_members=["officer"])
    applications.review(portal, actor="owner", application_id=app_id, decision=Decision.APPROVE)
    with pytest.raises(Forbidden):
        applications.review(
            portal, actor="officer", application_id=app_id, decision=Decision.APPROVE
        )
    assert status(portal, app_id) == ApplicationStatus.SUBMITTED
    applications.review(portal, actor="officer2", application_id=app_id, decision=Decision.APPROVE)
    assert status(portal, app_id) == ApplicationStatus.APPROVED


def test_an_owner_on_the_team_cannot_approve_for_the_dataset(portal: Portal) -> None:
    app_id = submitted_application(portal, ["tickets"], team_members=["owner"])
    for decision in Decision:
        with pytest.raises(Forbidden):
            applications.review(
                portal, actor="owner", application_id=app_id, decision=decision, comment="x"
            )
    assert status(portal, app_id) == ApplicationStatus.SUBMITTED


def test_one_person_with_both_roles_gives_only_one_of_the_two_l3_approvals(
    portal: Portal,
) -> None:
    portal.policy.assign_role("owner", "officer")
    portal.policy.reload()
    app_id = submitted_application(portal, ["payments"], Level.L3)
    applications.review(portal, actor="owner", application_id=app_id, decision=Decision.APPROVE)
    with portal.sessions() as session:
        app = session.get(Application, app_id)
        assert app is not None
        assert [(d.reviewer, d.role.value) for d in app.decisions] == [("owner", "owner")]
        assert [r.value for r, _ in applications.pending_approvals(session, app)] == ["officer"]
    with pytest.raises(Forbidden):
        applications.review(portal, actor="owner", application_id=app_id, decision=Decision.APPROVE)
    assert status(portal, app_id) == ApplicationStatus.SUBMITTED
    applications.review(portal, actor="officer", application_id=app_id, decision=Decision.APPROVE)
    assert status(portal, app_id) == ApplicationStatus.APPROVED


def test_team_members_join_only_by_accepting(portal: Portal) -> None:
    app_id = submitted_application(portal, ["tickets"], team_members=["operator", "ana"])
    applications.review(portal, actor="owner", application_id=app_id, decision=Decision.APPROVE)
    grant_id = f"g{app_id:04d}"
    with portal.sessions() as session:
        grant = session.get(Grant, grant_id)
        assert grant is not None
        assert grant.member_names == ["researcher"]
        assert grant.invited_names == ["ana", "operator"]
    with pytest.raises(NotFound):  # not invited: the grant does not exist for them
        grants.answer_invitation(portal, actor="olive", grant_id=grant_id, accept=True)
    join_team(portal, grant_id, ["operator"])
    grants.answer_invitation(portal, actor="ana", grant_id=grant_id, accept=False)
    with portal.sessions() as session:
        grant = session.get(Grant, grant_id)
        assert grant is not None
        assert sorted(grant.member_names) == ["operator", "researcher"]
        assert grant.invited_names == []
    with pytest.raises((AccessDenied, NotFound)):  # an answer is final
        grants.answer_invitation(portal, actor="ana", grant_id=grant_id, accept=True)
    types = [e.type for _, e in portal.audit.entries()]
    assert types.count("grant.member_joined") == 1
    assert types.count("grant.invitation_declined") == 1


def test_an_officer_on_the_team_joins_only_by_accepting(portal: Portal) -> None:
    app_id = submitted_application(portal, ["tickets"], team_members=["officer"])
    applications.review(portal, actor="owner", application_id=app_id, decision=Decision.APPROVE)
    grant_id = f"g{app_id:04d}"
    with pytest.raises(AccessDenied):  # nobody answers for someone else
        grants.answer_invitation(portal, actor="officer2", grant_id=grant_id, accept=True)
    join_team(portal, grant_id, ["officer"])
    with portal.sessions() as session:
        grant = session.get(Grant, grant_id)
        assert grant is not None and grant.member_names == ["officer", "researcher"]


def _ended_grant(portal: Portal) -> str:
    app_id = submitted_application(portal, ["tickets"])
    applications.review(portal, actor="owner", application_id=app_id, decision=Decision.APPROVE)
    grant_id = f"g{app_id:04d}"
    grants.change_status(portal, actor="researcher", grant_id=grant_id, action="end")
    return grant_id


def _grant_status(portal: Portal, grant_id: str) -> GrantStatus:
    with portal.sessions() as session:
        grant = session.get(Grant, grant_id)
        assert grant is not None
        return grant.status


def test_the_officer_who_starts_a_destruction_cannot_confirm_it(portal: Portal) -> None:
    grant_id = _ended_grant(portal)
    started = destruction.request_or_confirm(portal, actor="officer", grant_id=grant_id)
    assert started["status"] == "requested"
    with pytest.raises(AccessDenied):
        destruction.request_or_confirm(portal, actor="officer", grant_id=grant_id)
    with pytest.raises(AccessDenied):
        destruction.destroy_grant(
            portal, actor="officer", grant_id=grant_id, confirmed_by="officer"
        )
    assert _grant_status(portal, grant_id) == GrantStatus.ENDED
    destruction.request_or_confirm(portal, actor="officer2", grant_id=grant_id)
    assert _grant_status(portal, grant_id) == GrantStatus.DESTROYED
    with portal.sessions() as session:
        done = session.get(GrantDestruction, grant_id)
        assert done is not None
        assert (done.triggered_by, done.confirmed_by) == ("officer", "officer2")
    types = [e.type for _, e in portal.audit.entries()]
    assert types.count("grant.destruction_requested") == 1


def test_a_holder_asks_and_an_officer_confirms(portal: Portal) -> None:
    grant_id = _ended_grant(portal)
    with pytest.raises(AccessDenied):  # a stranger cannot even ask
        destruction.request_or_confirm(portal, actor="owner", grant_id=grant_id)
    destruction.request_or_confirm(portal, actor="researcher", grant_id=grant_id)
    assert _grant_status(portal, grant_id) == GrantStatus.ENDED
    with pytest.raises((AccessDenied, Forbidden)):  # nor can the holder confirm their own
        destruction.request_or_confirm(portal, actor="researcher", grant_id=grant_id)
    destruction.request_or_confirm(portal, actor="officer", grant_id=grant_id)
    assert _grant_status(portal, grant_id) == GrantStatus.DESTROYED


def test_approval_pins_the_newest_confirmed_version(portal: Portal) -> None:
    with portal.sessions.begin() as session:
        dataset = session.get(Dataset, "tickets")
        assert dataset is not None
        first = dataset.versions[0]
        dataset.versions.append(
            DatasetVersion(
                number=2,
                file_name="tickets.csv",
                file_format="csv",
                raw_sha256="1" * 64,
                wrapped_key=first.wrapped_key,
                policy_confirmed=False,
                uploaded_by="owner",
            )
        )
        session.flush()
        first_id = first.id
    app_id = submitted_application(portal, ["tickets"])
    applications.review(portal, actor="owner", application_id=app_id, decision=Decision.APPROVE)
    with portal.sessions() as session:
        grant = session.get(Grant, f"g{app_id:04d}")
        assert grant is not None
        assert [d.version_id for d in grant.datasets] == [first_id]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_approval_refuses_when_no_version_is_confirmed(portal: Portal, lang: str) -> None:
    app_id = submitted_application(portal, ["tickets"])
    with portal.sessions.begin() as session:  # e.g. the confirmation was withdrawn meanwhile
        dataset = session.get(Dataset, "tickets")
        assert dataset is not None
        dataset.versions[0].policy_confirmed = False
    with pytest.raises(InvalidTransition) as refused:
        applications.review(portal, actor="owner", application_id=app_id, decision=Decision.APPROVE)
    assert refused.value.status_code == 409
    assert "confirmed" in str(refused.value) and "确认" in refused.value.message_zh
    assert status(portal, app_id) == ApplicationStatus.SUBMITTED
    with portal.sessions() as session:
        assert session.get(Grant, f"g{app_id:04d}") is None


def test_an_officer_on_the_grant_cannot_confirm_its_destruction(portal: Portal) -> None:
    app_id = submitted_application(portal, ["tickets"], team_members=["officer2"])
    applications.review(portal, actor="owner", application_id=app_id, decision=Decision.APPROVE)
    grant_id = f"g{app_id:04d}"
    join_team(portal, grant_id, ["officer2"])
    grants.change_status(portal, actor="researcher", grant_id=grant_id, action="end")
    destruction.request_or_confirm(portal, actor="researcher", grant_id=grant_id)
    with pytest.raises(AccessDenied):
        destruction.request_or_confirm(portal, actor="officer2", grant_id=grant_id)
    with pytest.raises(AccessDenied):
        destruction.destroy_grant(
            portal, actor="researcher", grant_id=grant_id, confirmed_by="officer2"
        )
    assert _grant_status(portal, grant_id) == GrantStatus.ENDED
    destruction.request_or_confirm(portal, actor="officer", grant_id=grant_id)
    assert _grant_status(portal, grant_id) == GrantStatus.DESTROYED
