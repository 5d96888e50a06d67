"""The states of an export request and the only table of valid changes between them.

The names follow OpenSAFELY Airlock: a request is ``pending`` while its requesters assemble it,
``submitted`` for review, ``partially_reviewed`` when the first of two officers has finished (L3),
``reviewed`` when enough have, then ``approved``, ``rejected`` or ``returned`` (for changes), and
``released`` once an officer releases the approved files; ``withdrawn`` by its requesters.
"""

from __future__ import annotations

from open_portal.exceptions import InvalidTransition
from open_portal.models import ExportStatus

E = ExportStatus

# (from state, action) -> to state. The only table of valid transitions.
TRANSITIONS: dict[tuple[ExportStatus, str], ExportStatus] = {
    (E.PENDING, "submit"): E.SUBMITTED,
    (E.PENDING, "withdraw"): E.WITHDRAWN,
    (E.RETURNED, "submit"): E.SUBMITTED,
    (E.RETURNED, "withdraw"): E.WITHDRAWN,
    (E.SUBMITTED, "first_review"): E.PARTIALLY_REVIEWED,
    (E.SUBMITTED, "last_review"): E.REVIEWED,
    (E.PARTIALLY_REVIEWED, "last_review"): E.REVIEWED,
    (E.SUBMITTED, "return"): E.RETURNED,
    (E.PARTIALLY_REVIEWED, "return"): E.RETURNED,
    (E.REVIEWED, "return"): E.RETURNED,
    (E.REVIEWED, "approve"): E.APPROVED,
    (E.REVIEWED, "reject"): E.REJECTED,
    (E.APPROVED, "release"): E.RELEASED,
    # the grant is being destroyed: what its requesters still hold is closed
    (E.PENDING, "close"): E.WITHDRAWN,
    (E.RETURNED, "close"): E.WITHDRAWN,
}
EDITABLE = {E.PENDING, E.RETURNED}
UNDER_REVIEW = {E.SUBMITTED, E.PARTIALLY_REVIEWED, E.REVIEWED}
VOTING = {E.SUBMITTED, E.PARTIALLY_REVIEWED}
DECISIONS = ("approve", "reject", "return")
# states in which the reviewers of a request may read its held copies
HELD_READABLE = {*UNDER_REVIEW, E.RETURNED, E.APPROVED, E.RELEASED}
MAX_FILES = 50


def next_state(current: ExportStatus, action: str) -> ExportStatus:
    """The state after ``action``, or ``InvalidTransition``."""
    try:
        return TRANSITIONS[(current, action)]
    except KeyError:
        raise InvalidTransition(
            f"cannot {action} an export request that is {current.value}",
            zh=f"导出申请当前为「{current.value}」状态，不能执行「{action}」",
        ) from None
