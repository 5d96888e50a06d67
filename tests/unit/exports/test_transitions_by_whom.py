"""Every action from every state, by the right person and by the wrong ones: allowed exactly when
the transition table has it and the policy lets that person do it (on SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from unit.exports.export_helpers import SAFE_TABLE, make_grant, outbox

from open_portal.exceptions import Forbidden, InvalidTransition
from open_portal.models import ExportRequest, ExportStatus, Level, Vote
from open_portal.service import exports
from open_portal.service.context import Portal
from open_portal.service.transitions import EXPORT
from policies import AccessDenied

E = ExportStatus


def _file(portal: Portal, rid: int) -> int:
    with portal.sessions() as session:
        request = session.get(ExportRequest, rid)
        assert request is not None
        return request.files[0].id


def _review(portal: Portal, rid: int, officer: str, vote: Vote = Vote.APPROVE) -> None:
    exports.vote(portal, actor=officer, request_id=rid, file_id=_file(portal, rid), decision=vote)
    exports.complete_review(portal, actor=officer, request_id=rid)


def build(portal: Portal, tmp_path: Path, state: ExportStatus) -> int:
    """A request in ``state`` (L3 for partially reviewed, L2 otherwise)."""
    level = Level.L3 if state == E.PARTIALLY_REVIEWED else Level.L2
    grant_id = make_grant(portal, level)
    (outbox(tmp_path, grant_id) / "t.csv").write_text(SAFE_TABLE)
    rid = exports.request_export(
        portal,
        actor="researcher",
        grant_id=grant_id,
        files=["t.csv"],
        justification="表",
        controls="汇总",
    ).id
    if state == E.PENDING:
        return rid
    if state == E.WITHDRAWN:
        exports.withdraw(portal, actor="researcher", request_id=rid)
        return rid
    exports.submit(portal, actor="researcher", request_id=rid)
    if state == E.SUBMITTED:
        return rid
    if state == E.RETURNED:
        exports.decide(portal, actor="officer", request_id=rid, decision="return", comment="改")
        return rid
    _review(portal, rid, "officer", Vote.CHANGES if state == E.REJECTED else Vote.APPROVE)
    if state in (E.PARTIALLY_REVIEWED, E.REVIEWED):
        return rid
    if state == E.REJECTED:
        exports.decide(portal, actor="officer", request_id=rid, decision="reject", comment="不")
        return rid
    exports.decide(portal, actor="officer", request_id=rid, decision="approve")
    if state == E.RELEASED:
        exports.release(portal, actor="officer", request_id=rid)
    return rid


REQUESTER_ACTIONS: dict[str, Callable[[Portal, str, int], object]] = {
    "submit": lambda p, who, rid: exports.submit(p, actor=who, request_id=rid),
    "withdraw": lambda p, who, rid: exports.withdraw(p, actor=who, request_id=rid),
}
OFFICER_ACTIONS: dict[str, Callable[[Portal, str, int], object]] = {
    "complete_review": lambda p, who, rid: _review(p, rid, who),
    "approve": lambda p, who, rid: exports.decide(p, actor=who, request_id=rid, decision="approve"),
    "reject": lambda p, who, rid: exports.decide(
        p, actor=who, request_id=rid, decision="reject", comment="理由"
    ),
    "return": lambda p, who, rid: exports.decide(
        p, actor=who, request_id=rid, decision="return", comment="理由"
    ),
    "release": lambda p, who, rid: exports.release(p, actor=who, request_id=rid),
}
# where each action may happen (the reviews are counted from the table's review actions)
ALLOWED_FROM = {
    "submit": {E.PENDING, E.RETURNED},
    "withdraw": {E.PENDING, E.RETURNED},
    "complete_review": {E.SUBMITTED, E.PARTIALLY_REVIEWED},
    "approve": {E.REVIEWED},
    "reject": {E.REVIEWED},
    "return": {E.SUBMITTED, E.PARTIALLY_REVIEWED, E.REVIEWED},
    "release": {E.APPROVED},
}


def test_allowed_from_matches_the_table() -> None:
    table = EXPORT
    for action, states in ALLOWED_FROM.items():
        names = {"complete_review": ("first_review", "last_review")}.get(action, (action,))
        assert states == {s for s, a in table if a in names and s is not None}, action


def state(portal: Portal, rid: int) -> ExportStatus:
    with portal.sessions() as session:
        request = session.get(ExportRequest, rid)
        assert request is not None
        return request.status


@pytest.mark.parametrize("start", list(E))
@pytest.mark.parametrize("action", [*REQUESTER_ACTIONS, *OFFICER_ACTIONS])
def test_action_from_state(
    portal: Portal, tmp_path: Path, start: ExportStatus, action: str
) -> None:
    rid = build(portal, tmp_path, start)
    assert state(portal, rid) == start
    if action in REQUESTER_ACTIONS:
        run, right, wrong = (
            REQUESTER_ACTIONS[action],
            "operator",
            ["officer", "owner", "researcher2"],
        )
    else:
        run, right, wrong = OFFICER_ACTIONS[action], "officer2", ["researcher", "operator", "owner"]
    for person in wrong:
        with pytest.raises((AccessDenied, Forbidden)):
            run(portal, person, rid)
        assert state(portal, rid) == start
    if start in ALLOWED_FROM[action]:
        run(portal, right, rid)
        assert state(portal, rid) != start
    else:
        with pytest.raises(InvalidTransition):
            run(portal, right, rid)
        assert state(portal, rid) == start
