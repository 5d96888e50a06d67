"""The application state machine: every allowed and forbidden transition, by whom, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from factories import add_dataset, application_input, portal_at, submitted_application

from open_portal.exceptions import Forbidden, InvalidInput, InvalidTransition, NotFound
from open_portal.models import Application, ApplicationStatus, Decision, Grant, GrantStatus, Level
from open_portal.service import applications
from open_portal.service.context import Portal
from open_portal.service.transitions import APPLICATION
from policies import AccessDenied

S = ApplicationStatus


@pytest.fixture
def portal(tmp_path: Path, database_url: str) -> Iterator[Portal]:
    with portal_at(tmp_path / "data", database_url) as p:
        add_dataset(p, "tickets", Level.L2, publisher="hotline")
        add_dataset(p, "payments", Level.L3, publisher="hrss")
        add_dataset(p, "violations", Level.L4, publisher="traffic")
        add_dataset(p, "registry", Level.L1, publisher="market")
        add_dataset(p, "unready", Level.L2, confirmed=False)
        for dept in ("hotline", "hrss"):
            p.policy.assign_role("owner", "owner", f"dept:{dept}")
        yield p


def status(portal: Portal, application_id: int) -> ApplicationStatus:
    with portal.sessions() as session:
        app = session.get(Application, application_id)
        assert app is not None
        return app.status


def test_terminal_states_have_no_way_out() -> None:
    for terminal in (S.APPROVED, S.REJECTED, S.WITHDRAWN):
        assert not [k for k in APPLICATION if k[0] == terminal]


def test_l2_approved_by_owner_creates_grant(portal: Portal) -> None:
    app_id = submitted_application(portal, ["tickets"])
    assert status(portal, app_id) == S.SUBMITTED
    applications.review(portal, actor="owner", application_id=app_id, decision=Decision.APPROVE)
    assert status(portal, app_id) == S.APPROVED
    with portal.sessions() as session:
        grant = session.get(Grant, f"g{app_id:04d}")
        assert grant is not None
        assert grant.status == GrantStatus.ACTIVE
        assert grant.member_names == ["researcher"]
        assert grant.export_rules["reviewers_required"] == 1
    types = [e.type for _, e in portal.audit.entries()]
    assert types[-3:] == ["application.review.approve", "application.approved", "grant.created"]


def test_l3_needs_owner_and_officer(portal: Portal) -> None:
    app_id = submitted_application(portal, ["payments"], Level.L3, epsilon="2")
    applications.review(portal, actor="owner", application_id=app_id, decision=Decision.APPROVE)
    assert status(portal, app_id) == S.SUBMITTED
    with portal.sessions() as session:
        app = session.get(Application, app_id)
        assert app is not None
        assert [r.value for r, _ in applications.pending_approvals(session, app)] == ["officer"]
    applications.review(portal, actor="officer", application_id=app_id, decision=Decision.APPROVE)
    assert status(portal, app_id) == S.APPROVED
    with portal.sessions() as session:
        grant = session.get(Grant, f"g{app_id:04d}")
        assert grant is not None and grant.epsilon_budget == "2"
        assert grant.export_rules["reviewers_required"] == 2


def test_officer_alone_cannot_approve_l3(portal: Portal) -> None:
    app_id = submitted_application(portal, ["payments"], Level.L3)
    applications.review(portal, actor="officer", application_id=app_id, decision=Decision.APPROVE)
    with pytest.raises(Forbidden):
        applications.review(
            portal, actor="officer2", application_id=app_id, decision=Decision.APPROVE
        )
    assert status(portal, app_id) == S.SUBMITTED


def test_officer_cannot_approve_for_owner_on_l2(portal: Portal) -> None:
    app_id = submitted_application(portal, ["tickets"])
    with pytest.raises(Forbidden):
        applications.review(
            portal, actor="officer", application_id=app_id, decision=Decision.APPROVE
        )
    assert status(portal, app_id) == S.SUBMITTED


def test_nobody_approves_their_own_application(portal: Portal) -> None:
    portal.policy.assign_role("owner", "researcher")
    app = applications.create_application(
        portal, actor="owner", data=application_input(["tickets"])
    )
    applications.submit(portal, actor="owner", application_id=app.id)
    with pytest.raises(Forbidden):
        applications.review(portal, actor="owner", application_id=app.id, decision=Decision.APPROVE)
    assert status(portal, app.id) == S.SUBMITTED


def test_one_rejection_rejects(portal: Portal) -> None:
    app_id = submitted_application(portal, ["tickets", "payments"], Level.L3)
    applications.review(portal, actor="owner", application_id=app_id, decision=Decision.APPROVE)
    applications.review(
        portal,
        actor="officer",
        application_id=app_id,
        decision=Decision.REJECT,
        comment="目的不明确",
    )
    assert status(portal, app_id) == S.REJECTED
    with pytest.raises(InvalidTransition):
        applications.review(
            portal, actor="officer2", application_id=app_id, decision=Decision.APPROVE
        )


def test_return_then_resubmit_starts_a_new_round(portal: Portal) -> None:
    app_id = submitted_application(portal, ["payments"], Level.L3)
    applications.review(portal, actor="owner", application_id=app_id, decision=Decision.APPROVE)
    applications.review(
        portal,
        actor="officer",
        application_id=app_id,
        decision=Decision.RETURN,
        comment="补充安全措施",
    )
    assert status(portal, app_id) == S.RETURNED
    applications.update_application(
        portal,
        actor="researcher",
        application_id=app_id,
        data=application_input(["payments"], Level.L3, purpose="补充了安全措施"),
    )
    applications.submit(portal, actor="researcher", application_id=app_id)
    applications.review(portal, actor="officer", application_id=app_id, decision=Decision.APPROVE)
    assert status(portal, app_id) == S.SUBMITTED  # the owner's approval of round 1 no longer counts
    applications.review(portal, actor="owner", application_id=app_id, decision=Decision.APPROVE)
    assert status(portal, app_id) == S.APPROVED


def test_reject_and_return_need_a_comment(portal: Portal) -> None:
    app_id = submitted_application(portal, ["tickets"])
    with pytest.raises(InvalidInput):
        applications.review(portal, actor="owner", application_id=app_id, decision=Decision.REJECT)
    assert status(portal, app_id) == S.SUBMITTED


def test_only_the_applicant_submits_or_withdraws(portal: Portal) -> None:
    app = applications.create_application(
        portal, actor="researcher", data=application_input(["tickets"])
    )
    # reviewers who may read it are refused; anyone else is told it does not exist
    for intruder, refusal in (
        ("operator", NotFound),
        ("officer", AccessDenied),
        ("owner", AccessDenied),
    ):
        with pytest.raises(refusal):
            applications.submit(portal, actor=intruder, application_id=app.id)
        with pytest.raises(refusal):
            applications.withdraw(portal, actor=intruder, application_id=app.id)
    assert status(portal, app.id) == S.DRAFT
    applications.withdraw(portal, actor="researcher", application_id=app.id)
    assert status(portal, app.id) == S.WITHDRAWN
    with pytest.raises(InvalidTransition):
        applications.submit(portal, actor="researcher", application_id=app.id)


def test_submit_needs_agreement_and_commitment(portal: Portal) -> None:
    app = applications.create_application(
        portal, actor="researcher", data=application_input(["tickets"], agreement_accepted=False)
    )
    with pytest.raises(InvalidInput, match="agreement"):
        applications.submit(portal, actor="researcher", application_id=app.id)
    assert status(portal, app.id) == S.DRAFT


@pytest.mark.parametrize(
    ("datasets", "level", "message"),
    [
        (["violations"], Level.L2, "unknown dataset 'violations'"),  # L4: as if unknown
        (["registry"], Level.L2, "open"),
        (["nope"], Level.L2, "unknown dataset 'nope'"),
        (["unready"], Level.L2, "unknown dataset 'unready'"),  # a draft: as if unknown
    ],
)
def test_bad_dataset_choices_are_refused(
    portal: Portal, datasets: list[str], level: Level, message: str
) -> None:
    with pytest.raises((InvalidInput, NotFound), match=message):
        applications.create_application(
            portal, actor="researcher", data=application_input(datasets, level)
        )
    with portal.sessions() as session:
        assert session.query(Application).count() == 0


def test_operator_applies_as_organisation_with_valid_credit_code(portal: Portal) -> None:
    with pytest.raises(ValueError, match="credit code"):
        application_input(
            ["tickets"],
            kind="organisation",
            organisation="某公司",
            organisation_uscc="91330106MA2GL2KX1A",
        )
    data = application_input(
        ["tickets"],
        kind="organisation",
        organisation="杭州数智科技有限公司",
        organisation_uscc="91330106MA2GL2KX1Y",
    )
    with pytest.raises(AccessDenied):
        applications.create_application(portal, actor="researcher", data=data)
    app = applications.create_application(portal, actor="operator", data=data)
    assert app.organisation_uscc == "91330106MA2GL2KX1Y"


def test_end_before_start_and_l4_are_refused_by_validation() -> None:
    import datetime as dt

    with pytest.raises(ValueError, match="after its start"):
        application_input(["tickets"], starts_on=dt.date(2026, 5, 1), ends_on=dt.date(2026, 4, 1))
    with pytest.raises(ValueError, match="L4"):
        application_input(["tickets"], Level.L4)


def test_review_queue_and_notifications(portal: Portal) -> None:
    from open_portal.service import notifications

    app_id = submitted_application(portal, ["payments"], Level.L3)
    with portal.sessions() as session:
        assert [a.id for a in applications.review_queue(portal, session, actor="owner")] == [app_id]
        assert [a.id for a in applications.review_queue(portal, session, actor="officer")] == [
            app_id
        ]
        assert applications.review_queue(portal, session, actor="researcher") == []
        assert len(notifications.unread(session, "owner")) == 1
        assert len(notifications.unread(session, "officer2")) == 1


def test_applications_are_visible_only_to_those_concerned(portal: Portal) -> None:
    app_id = submitted_application(portal, ["tickets"])
    with portal.sessions() as session:
        assert applications.get_application(portal, session, actor="owner", application_id=app_id)
        assert applications.get_application(portal, session, actor="officer", application_id=app_id)
        with pytest.raises(NotFound):
            applications.get_application(portal, session, actor="operator", application_id=app_id)
        assert applications.list_applications(portal, session, actor="operator") == []


def test_hidden_datasets_are_refused_exactly_like_unknown_ones(portal: Portal) -> None:
    """L4 and draft datasets answer an applicant with the same words as an id that never existed."""
    answers = {}
    for dataset_id in ("violations", "unready", "nope"):
        with pytest.raises(InvalidInput) as refused:
            applications.create_application(
                portal, actor="researcher", data=application_input([dataset_id])
            )
        answers[dataset_id] = (
            refused.value.status_code,
            str(refused.value).replace(dataset_id, "ID"),
            refused.value.message_zh.replace(dataset_id, "ID"),
        )
    assert answers["violations"] == answers["unready"] == answers["nope"]


def test_the_owner_of_a_draft_is_told_it_is_not_ready(portal: Portal) -> None:
    portal.policy.assign_role("owner", "researcher")
    with pytest.raises(InvalidInput, match="not ready"):
        applications.create_application(portal, actor="owner", data=application_input(["unready"]))


def test_one_application_one_grant_each_dataset_at_its_own_level(portal: Portal) -> None:
    """An L2 and an L3 dataset together: no level is forced on both; the officer is needed for
    the L3 one only, and the grant keeps each dataset's level."""
    app_id = submitted_application(portal, ["tickets", "payments"], level=None, epsilon="1")
    with portal.sessions() as session:
        app = session.get(Application, app_id)
        assert app is not None
        assert app.levels == {"tickets": Level.L2, "payments": Level.L3}
        assert app.level == Level.L3  # the application as a whole: its highest
        rows = {r["id"]: r for r in applications.dataset_reviews(session, app)}
        assert rows["tickets"]["approvers"] == [("owner", "owner")]
        assert rows["payments"]["approvers"] == [("owner", "owner"), ("officer", "")]
    applications.review(portal, actor="owner", application_id=app_id, decision=Decision.APPROVE)
    with portal.sessions() as session:
        app = session.get(Application, app_id)
        assert app is not None
        rows = {r["id"]: r for r in applications.dataset_reviews(session, app)}
        assert rows["tickets"]["approved"] == ["owner"] and rows["payments"]["approved"] == [
            "owner"
        ]
    assert status(portal, app_id) == S.SUBMITTED
    applications.review(portal, actor="officer", application_id=app_id, decision=Decision.APPROVE)
    with portal.sessions() as session:
        grant = session.get(Grant, f"g{app_id:04d}")
        assert grant is not None
        assert grant.levels == {"tickets": Level.L2, "payments": Level.L3}
        assert grant.record_level_ids == ["tickets"]
        assert grant.level == Level.L3 and grant.epsilon_budget == "1"
        assert grant.export_rules["reviewers_required"] == 2
    created = [e for _, e in portal.audit.entries() if e.type == "grant.created"][-1]
    assert created.details["levels"] == {"tickets": "L2", "payments": "L3"}


@pytest.mark.parametrize(
    ("floor", "expected"),
    [
        (None, {"tickets": Level.L2, "payments": Level.L3}),
        (Level.L2, {"tickets": Level.L2, "payments": Level.L3}),  # never below its own level
        (Level.L3, {"tickets": Level.L3, "payments": Level.L3}),  # DP answers only, asked
    ],
)
def test_the_level_asked_is_never_below_the_dataset_level(
    portal: Portal, floor: Level | None, expected: dict[str, Level]
) -> None:
    app = applications.create_application(
        portal, actor="researcher", data=application_input(["tickets", "payments"], floor)
    )
    with portal.sessions() as session:
        held = session.get(Application, app.id)
        assert held is not None and held.levels == expected


def test_an_l2_only_application_needs_no_officer(portal: Portal) -> None:
    app_id = submitted_application(portal, ["tickets"], level=None)
    with portal.sessions() as session:
        app = session.get(Application, app_id)
        assert app is not None
        assert not applications.needs_officer(session, app)
        assert [r.value for r, _ in applications.pending_approvals(session, app)] == ["owner"]
