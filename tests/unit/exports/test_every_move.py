"""Every move of every table, driven through the service layer as users make it: the object
reaches the table's state and the log gets exactly the event the table names (on SQLite and
PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from factories import application_input, submitted_application
from sqlalchemy import update
from unit.exports.export_helpers import SAFE_TABLE, make_grant, outbox
from unit.exports.test_transitions_by_whom import build

from open_portal.exceptions import InvalidInput, InvalidTransition
from open_portal.models import (
    Application,
    Decision,
    ExportRequest,
    ExportStatus,
    Grant,
    GrantDestruction,
    GrantInvitation,
    Level,
    Vote,
)
from open_portal.service import applications, destruction, exports, grants
from open_portal.service.context import Portal
from open_portal.service.transitions import MACHINES

E = ExportStatus
# Each driver builds the object in the move's from state, makes the move through the service
# and returns (model, primary key) of the object moved; ``before`` marks where its events start.
Driver = Callable[[Portal, Path, list[int]], tuple[type, Any]]


def mark(portal: Portal, before: list[int]) -> None:
    before.append(portal.audit.size)


# ---- applications ----------------------------------------------------------------------------


def _draft(portal: Portal) -> int:
    data = application_input(["tickets"])
    return applications.create_application(portal, actor="researcher", data=data).id


def _returned(portal: Portal) -> int:
    app_id = submitted_application(portal, ["tickets"])
    applications.review(
        portal, actor="owner", application_id=app_id, decision=Decision.RETURN, comment="改"
    )
    return app_id


def app_create(portal: Portal, _: Path, before: list[int]) -> tuple[type, Any]:
    mark(portal, before)
    return Application, _draft(portal)


def app_move(start: str, action: str) -> Driver:
    def drive(portal: Portal, _: Path, before: list[int]) -> tuple[type, Any]:
        app_id = {
            "draft": _draft,
            "returned": _returned,
            "submitted": lambda p: submitted_application(p, ["tickets"]),
        }[start](portal)
        mark(portal, before)
        if action == "submit":
            applications.submit(portal, actor="researcher", application_id=app_id)
        elif action == "withdraw":
            applications.withdraw(portal, actor="researcher", application_id=app_id)
        else:
            applications.review(
                portal,
                actor="owner",
                application_id=app_id,
                decision=Decision(action),
                comment="理由",
            )
        return Application, app_id

    return drive


# ---- grants, invitations, destructions ---------------------------------------------------------


def grant_create(portal: Portal, _: Path, before: list[int]) -> tuple[type, Any]:
    app_id = submitted_application(portal, ["tickets"])
    mark(portal, before)
    applications.review(portal, actor="owner", application_id=app_id, decision=Decision.APPROVE)
    return Grant, f"g{app_id:04d}"


def _grant_in(portal: Portal, state: str) -> str:
    grant_id = make_grant(portal)
    if state == "suspended":
        grants.change_status(portal, actor="officer", grant_id=grant_id, action="suspend")
    elif state == "ended":  # by its holder
        grants.change_status(portal, actor="researcher", grant_id=grant_id, action="end")
    elif state == "expired":  # its term is over
        with portal.sessions.begin() as session:
            session.execute(
                update(Grant)
                .where(Grant.id == grant_id)
                .values(ends_at=portal.clock() - timedelta(seconds=1))
            )
        grants.expire_due(portal)
    elif state == "revoked":
        grants.change_status(portal, actor="officer", grant_id=grant_id, action="revoke")
    return grant_id


def grant_move(start: str, action: str) -> Driver:
    def drive(portal: Portal, _: Path, before: list[int]) -> tuple[type, Any]:
        grant_id = _grant_in(portal, start)
        if action == "expire":  # its term is over
            with portal.sessions.begin() as session:
                session.execute(
                    update(Grant)
                    .where(Grant.id == grant_id)
                    .values(ends_at=portal.clock() - timedelta(seconds=1))
                )
            mark(portal, before)
            grants.expire_due(portal)
        elif action == "destroy":
            mark(portal, before)
            destruction.destroy_grant(
                portal, actor="officer", grant_id=grant_id, confirmed_by="officer2"
            )
        else:
            who = "researcher" if action == "end" else "officer"
            mark(portal, before)
            grants.change_status(portal, actor=who, grant_id=grant_id, action=action)
        return Grant, grant_id

    return drive


def invitation_move(action: str) -> Driver:
    def drive(portal: Portal, _: Path, before: list[int]) -> tuple[type, Any]:
        app_id = submitted_application(portal, ["tickets"], team_members=["operator"])
        applications.review(portal, actor="owner", application_id=app_id, decision=Decision.APPROVE)
        grant_id = f"g{app_id:04d}"
        mark(portal, before)
        grants.answer_invitation(
            portal, actor="operator", grant_id=grant_id, accept=action == "accept"
        )
        return GrantInvitation, (grant_id, "operator")

    return drive


def destruction_request(portal: Portal, _: Path, before: list[int]) -> tuple[type, Any]:
    grant_id = _grant_in(portal, "revoked")
    mark(portal, before)
    destruction.request_or_confirm(portal, actor="officer", grant_id=grant_id)
    return GrantDestruction, grant_id


def _crash_after_first_step(run: Callable[[], object]) -> None:
    """Run a destruction that stops after its first step (so it stays started)."""

    def crash(step: str) -> None:
        raise RuntimeError(f"the host went down after {step}")

    destruction.after_step.append(crash)
    try:
        with pytest.raises(RuntimeError):
            run()
    finally:
        destruction.after_step.remove(crash)


def destruction_start(requested: bool) -> Driver:
    def drive(portal: Portal, _: Path, before: list[int]) -> tuple[type, Any]:
        grant_id = _grant_in(portal, "revoked")
        if requested:
            destruction.request_or_confirm(portal, actor="officer", grant_id=grant_id)
            mark(portal, before)
            _crash_after_first_step(
                lambda: destruction.request_or_confirm(portal, actor="officer2", grant_id=grant_id)
            )
        else:
            mark(portal, before)
            _crash_after_first_step(
                lambda: destruction.destroy_grant(
                    portal, actor="officer", grant_id=grant_id, confirmed_by="officer2"
                )
            )
        return GrantDestruction, grant_id

    return drive


def destruction_finish(portal: Portal, _: Path, before: list[int]) -> tuple[type, Any]:
    """A destruction that stopped half way (started), resumed to its end."""
    grant_id = _grant_in(portal, "revoked")
    _crash_after_first_step(
        lambda: destruction.destroy_grant(
            portal, actor="officer", grant_id=grant_id, confirmed_by="officer2"
        )
    )
    mark(portal, before)
    destruction.destroy_grant(portal, actor="officer", grant_id=grant_id, confirmed_by="officer2")
    return GrantDestruction, grant_id


# ---- export requests ---------------------------------------------------------------------------


def _file(portal: Portal, rid: int) -> int:
    with portal.sessions() as session:
        request = session.get(ExportRequest, rid)
        assert request is not None
        return request.files[0].id


def _request_on(portal: Portal, tmp_path: Path, grant_id: str) -> int:
    (outbox(tmp_path, grant_id) / "t.csv").write_text(SAFE_TABLE)
    return exports.request_export(
        portal,
        actor="researcher",
        grant_id=grant_id,
        files=["t.csv"],
        justification="表",
        controls="汇总",
    ).id


def export_create(portal: Portal, tmp_path: Path, before: list[int]) -> tuple[type, Any]:
    grant_id = make_grant(portal)
    (outbox(tmp_path, grant_id) / "t.csv").write_text(SAFE_TABLE)
    mark(portal, before)
    return ExportRequest, _request_on(portal, tmp_path, grant_id)


def _review(portal: Portal, rid: int, officer: str) -> None:
    exports.vote(
        portal, actor=officer, request_id=rid, file_id=_file(portal, rid), decision=Vote.APPROVE
    )
    exports.complete_review(portal, actor=officer, request_id=rid)


def _submitted_needing(portal: Portal, tmp_path: Path, reviewers: int) -> int:
    """A submitted request of an L3 grant whose rules ask ``reviewers`` officers."""
    grant_id = make_grant(portal, Level.L3)
    with portal.sessions.begin() as session:
        grant = session.get(Grant, grant_id)
        assert grant is not None
        grant.export_rules = {**grant.export_rules, "reviewers_required": reviewers}
    rid = _request_on(portal, tmp_path, grant_id)
    exports.submit(portal, actor="researcher", request_id=rid)
    return rid


def export_review(start: ExportStatus, action: str) -> Driver:
    def drive(portal: Portal, tmp_path: Path, before: list[int]) -> tuple[type, Any]:
        if start == E.SUBMITTED:
            rid = _submitted_needing(portal, tmp_path, 2 if action == "first_review" else 1)
        else:  # partially reviewed: one of two (last) or of three (first) has finished
            rid = _submitted_needing(portal, tmp_path, 3 if action == "first_review" else 2)
            _review(portal, rid, "officer")
        mark(portal, before)
        _review(portal, rid, "officer2")
        return ExportRequest, rid

    return drive


def export_move(start: ExportStatus, action: str) -> Driver:
    def drive(portal: Portal, tmp_path: Path, before: list[int]) -> tuple[type, Any]:
        rid = build(portal, tmp_path, start)
        mark(portal, before)
        if action in ("submit", "withdraw"):
            getattr(exports, action)(portal, actor="researcher", request_id=rid)
        elif action == "release":
            exports.release(portal, actor="officer2", request_id=rid)
        elif action == "close":
            with portal.sessions() as session:
                grant_id = session.get(ExportRequest, rid).grant_id  # type: ignore[union-attr]
            grants.change_status(portal, actor="officer", grant_id=grant_id, action="revoke")
            before[-1] = portal.audit.size
            destruction.destroy_grant(
                portal, actor="officer", grant_id=grant_id, confirmed_by="officer2"
            )
        else:
            exports.decide(
                portal, actor="officer2", request_id=rid, decision=action, comment="理由"
            )
        return ExportRequest, rid

    return drive


DRIVERS: dict[tuple[type, Any, str], Driver] = {
    (Application, None, "create"): app_create,
    **{
        (Application, start, action): app_move(start, action)
        for start, action in [
            ("draft", "submit"),
            ("returned", "submit"),
            ("draft", "withdraw"),
            ("returned", "withdraw"),
            ("submitted", "withdraw"),
            ("submitted", "return"),
            ("submitted", "reject"),
            ("submitted", "approve"),
        ]
    },
    (Grant, None, "create"): grant_create,
    **{
        (Grant, start, action): grant_move(start, action)
        for start, action in [
            ("active", "suspend"),
            ("suspended", "reinstate"),
            ("active", "revoke"),
            ("suspended", "revoke"),
            ("active", "end"),
            ("active", "expire"),
            ("suspended", "expire"),
            ("expired", "destroy"),
            ("ended", "destroy"),
            ("revoked", "destroy"),
        ]
    },
    (GrantInvitation, "invited", "accept"): invitation_move("accept"),
    (GrantInvitation, "invited", "decline"): invitation_move("decline"),
    (GrantDestruction, None, "request"): destruction_request,
    (GrantDestruction, None, "start"): destruction_start(requested=False),
    (GrantDestruction, "requested", "start"): destruction_start(requested=True),
    (GrantDestruction, "started", "finish"): destruction_finish,
    (ExportRequest, None, "create"): export_create,
    (ExportRequest, E.SUBMITTED, "first_review"): export_review(E.SUBMITTED, "first_review"),
    (ExportRequest, E.PARTIALLY_REVIEWED, "first_review"): export_review(
        E.PARTIALLY_REVIEWED, "first_review"
    ),
    (ExportRequest, E.SUBMITTED, "last_review"): export_review(E.SUBMITTED, "last_review"),
    (ExportRequest, E.PARTIALLY_REVIEWED, "last_review"): export_review(
        E.PARTIALLY_REVIEWED, "last_review"
    ),
    **{
        (ExportRequest, start, action): export_move(start, action)
        for start, action in [
            (E.PENDING, "submit"),
            (E.RETURNED, "submit"),
            (E.PENDING, "withdraw"),
            (E.RETURNED, "withdraw"),
            (E.SUBMITTED, "return"),
            (E.PARTIALLY_REVIEWED, "return"),
            (E.REVIEWED, "return"),
            (E.REVIEWED, "approve"),
            (E.REVIEWED, "reject"),
            (E.APPROVED, "release"),
            (E.PENDING, "close"),
            (E.RETURNED, "close"),
        ]
    },
}


def test_every_move_of_the_tables_has_a_driver() -> None:
    table_moves = {
        (kind, start, action) for kind, m in MACHINES.items() for start, action in m.table
    }
    assert set(DRIVERS) == table_moves


@pytest.mark.parametrize("move", list(DRIVERS), ids=lambda m: f"{m[0].__name__}-{m[1]}-{m[2]}")
def test_each_move_records_exactly_its_event(
    portal: Portal, tmp_path: Path, move: tuple[type, Any, str]
) -> None:
    kind, start, action = move
    machine = MACHINES[kind]
    expected = machine.table[(start, action)]
    before: list[int] = []
    model, key = DRIVERS[move](portal, tmp_path, before)
    assert model is kind
    with portal.sessions() as session:
        obj = session.get(kind, key)
        assert obj is not None
        assert obj.status == expected.to
        subject, object_ = machine.about(obj)
    kind_events = {m.event for m in machine.table.values() if m.event is not None}
    recorded = [
        e.type
        for _, e in portal.audit.entries(before[-1])
        if e.type in kind_events and (e.subject, e.object) == (subject, object_)
    ]
    assert recorded == ([] if expected.event is None else [expected.event])


def test_moves_not_in_the_table_are_refused_and_record_nothing(
    portal: Portal, tmp_path: Path
) -> None:
    draft = _draft(portal)
    grant_id = make_grant(portal)
    pending = _request_on(portal, tmp_path, grant_id)
    before = portal.audit.size
    refused: list[Callable[[], object]] = [
        lambda: applications.review(
            portal, actor="owner", application_id=draft, decision=Decision.APPROVE
        ),
        lambda: grants.change_status(
            portal, actor="officer", grant_id=grant_id, action="reinstate"
        ),
        lambda: exports.release(portal, actor="officer2", request_id=pending),
        lambda: exports.decide(portal, actor="officer2", request_id=pending, decision="approve"),
        lambda: destruction.destroy_grant(
            portal, actor="officer", grant_id=grant_id, confirmed_by="officer2"
        ),
    ]
    for run in refused:
        with pytest.raises(InvalidTransition) as error:
            run()
        assert error.value.status_code == 409 and error.value.message_zh != str(error.value)
    assert portal.audit.size == before
    with portal.sessions() as session:
        assert session.get(Application, draft).status == "draft"  # type: ignore[union-attr]
        assert session.get(Grant, grant_id).status == "active"  # type: ignore[union-attr]
        assert session.get(ExportRequest, pending).status == E.PENDING  # type: ignore[union-attr]
        assert session.get(GrantDestruction, grant_id) is None


def test_a_move_refused_after_validation_records_nothing(portal: Portal, tmp_path: Path) -> None:
    """The move is valid from the state, then the call fails: state and log as before."""
    app_id = applications.create_application(
        portal,
        actor="researcher",
        data=application_input(["tickets"], agreement_accepted=False),
    ).id
    grant_id = make_grant(portal)
    rid = _request_on(portal, tmp_path, grant_id)
    exports.set_group(
        portal, actor="researcher", request_id=rid, group="default", context="", controls=""
    )
    before = portal.audit.size
    with pytest.raises(InvalidInput):
        applications.submit(portal, actor="researcher", application_id=app_id)
    with pytest.raises(InvalidInput):
        exports.submit(portal, actor="researcher", request_id=rid)
    assert portal.audit.size == before
    with portal.sessions() as session:
        assert session.get(Application, app_id).status == "draft"  # type: ignore[union-attr]
        assert session.get(ExportRequest, rid).status == E.PENDING  # type: ignore[union-attr]
