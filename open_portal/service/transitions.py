"""The one state machine of the portal, and the audit event of each of its moves.

Applications, grants (with their invitations and their destruction) and export requests change
state only through ``transition``: it looks the move up in the object's table, refuses a move the
table does not have (409, in both languages), sets the new state and records the event the table
names for it. ``record`` stages that event in the audit outbox of the transaction in progress
(``service.auditing``), so a move whose transaction fails afterwards leaves no event.

A table maps ``(from state, action)`` to a ``Move``: the state after it and the type of its audit
event. ``None`` as the from state is the creation of the object. A move whose event is ``None``
is recorded by another move of the same call (said next to it).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session, object_session
from sqlalchemy.orm.attributes import set_committed_value

from audit.events import GRANT_DESTROYED
from open_portal.exceptions import InvalidTransition
from open_portal.models import (
    Application,
    ApplicationStatus,
    DestructionStatus,
    ExportRequest,
    ExportStatus,
    Grant,
    GrantDestruction,
    GrantInvitation,
    GrantStatus,
    InvitationStatus,
)
from open_portal.service.auditing import record
from open_portal.service.context import Portal


@dataclass(frozen=True)
class Move:
    """Where an action leads, and the type of the audit event that records it."""

    to: enum.StrEnum
    event: str | None


A = ApplicationStatus
G = GrantStatus
E = ExportStatus
I = InvitationStatus  # noqa: E741
D = DestructionStatus

APPLICATION: dict[tuple[ApplicationStatus | None, str], Move] = {
    (None, "create"): Move(A.DRAFT, "application.created"),
    (A.DRAFT, "submit"): Move(A.SUBMITTED, "application.submitted"),
    (A.RETURNED, "submit"): Move(A.SUBMITTED, "application.submitted"),
    (A.DRAFT, "withdraw"): Move(A.WITHDRAWN, "application.withdrawn"),
    (A.RETURNED, "withdraw"): Move(A.WITHDRAWN, "application.withdrawn"),
    (A.SUBMITTED, "withdraw"): Move(A.WITHDRAWN, "application.withdrawn"),
    (A.SUBMITTED, "return"): Move(A.RETURNED, "application.returned"),
    (A.SUBMITTED, "reject"): Move(A.REJECTED, "application.rejected"),
    (A.SUBMITTED, "approve"): Move(A.APPROVED, "application.approved"),
}

GRANT: dict[tuple[GrantStatus | None, str], Move] = {
    (None, "create"): Move(G.ACTIVE, "grant.created"),
    (G.ACTIVE, "suspend"): Move(G.SUSPENDED, "grant.suspend"),
    (G.SUSPENDED, "reinstate"): Move(G.ACTIVE, "grant.reinstate"),
    (G.ACTIVE, "revoke"): Move(G.REVOKED, "grant.revoke"),
    (G.SUSPENDED, "revoke"): Move(G.REVOKED, "grant.revoke"),
    (G.ACTIVE, "end"): Move(G.ENDED, "grant.end"),  # by its holder, before its term is over
    (G.ACTIVE, "expire"): Move(G.EXPIRED, "grant.expired"),
    (G.SUSPENDED, "expire"): Move(G.EXPIRED, "grant.expired"),
    # the event is the destruction certificate
    (G.EXPIRED, "destroy"): Move(G.DESTROYED, GRANT_DESTROYED),
    (G.ENDED, "destroy"): Move(G.DESTROYED, GRANT_DESTROYED),
    (G.REVOKED, "destroy"): Move(G.DESTROYED, GRANT_DESTROYED),
}

INVITATION: dict[tuple[InvitationStatus | None, str], Move] = {
    (I.INVITED, "accept"): Move(I.ACCEPTED, "grant.member_joined"),
    (I.INVITED, "decline"): Move(I.DECLINED, "grant.invitation_declined"),
}

DESTRUCTION: dict[tuple[DestructionStatus | None, str], Move] = {
    (None, "request"): Move(D.REQUESTED, "grant.destruction_requested"),
    (None, "start"): Move(D.STARTED, "grant.destruction_started"),
    (D.REQUESTED, "start"): Move(D.STARTED, "grant.destruction_started"),
    # recorded by the grant's own move to destroyed (its certificate), in the same transaction
    (D.STARTED, "finish"): Move(D.DONE, None),
}

EXPORT: dict[tuple[ExportStatus | None, str], Move] = {
    (None, "create"): Move(E.PENDING, "export.requested"),
    (E.PENDING, "submit"): Move(E.SUBMITTED, "export.submitted"),
    (E.RETURNED, "submit"): Move(E.SUBMITTED, "export.submitted"),
    (E.PENDING, "withdraw"): Move(E.WITHDRAWN, "export.withdrawn"),
    (E.RETURNED, "withdraw"): Move(E.WITHDRAWN, "export.withdrawn"),
    # an officer completes a review: the last one needed makes the request reviewed
    (E.SUBMITTED, "first_review"): Move(E.PARTIALLY_REVIEWED, "export.review_completed"),
    (E.PARTIALLY_REVIEWED, "first_review"): Move(E.PARTIALLY_REVIEWED, "export.review_completed"),
    (E.SUBMITTED, "last_review"): Move(E.REVIEWED, "export.review_completed"),
    (E.PARTIALLY_REVIEWED, "last_review"): Move(E.REVIEWED, "export.review_completed"),
    (E.SUBMITTED, "return"): Move(E.RETURNED, "export.returned"),
    (E.PARTIALLY_REVIEWED, "return"): Move(E.RETURNED, "export.returned"),
    (E.REVIEWED, "return"): Move(E.RETURNED, "export.returned"),
    (E.REVIEWED, "approve"): Move(E.APPROVED, "export.approved"),
    (E.REVIEWED, "reject"): Move(E.REJECTED, "export.rejected"),
    (E.APPROVED, "release"): Move(E.RELEASED, "export.released"),
    # the grant is being destroyed: what its requesters still hold is closed
    (E.PENDING, "close"): Move(E.WITHDRAWN, "export.closed"),
    (E.RETURNED, "close"): Move(E.WITHDRAWN, "export.closed"),
}


@dataclass(frozen=True)
class Machine:
    """The table of one kind of object, what it is called, and what its events are about."""

    table: Mapping[tuple[Any, str], Move]
    en: str
    zh: str
    about: Callable[[Any], tuple[str, str | None]]  # (subject, object) of its events


MACHINES: dict[type, Machine] = {
    Application: Machine(
        APPLICATION, "an application", "申请", lambda a: (f"application:{a.id}", None)
    ),
    Grant: Machine(GRANT, "a grant", "授权", lambda g: (f"grant:{g.id}", None)),
    GrantInvitation: Machine(
        INVITATION, "an invitation", "邀请", lambda i: (f"grant:{i.grant_id}", None)
    ),
    GrantDestruction: Machine(
        DESTRUCTION, "a destruction", "销毁", lambda d: (f"grant:{d.grant_id}", None)
    ),
    ExportRequest: Machine(
        EXPORT, "an export request", "导出申请", lambda r: (f"grant:{r.grant_id}", f"export:{r.id}")
    ),
}


def machine_of(obj: object) -> Machine:
    return MACHINES[type(obj)]


def move_of(obj: object, action: str) -> Move:
    """The move ``action`` makes from the object's state, or ``InvalidTransition`` (409)."""
    machine = machine_of(obj)
    current = obj.status  # type: ignore[attr-defined]
    move = machine.table.get((current, action))
    if move is None:
        state = "new" if current is None else current.value
        raise InvalidTransition(
            f"cannot {action} {machine.en} that is {state}",
            zh=f"{machine.zh}当前为「{state}」状态，不能执行「{action}」",
        )
    return move


def can_move(obj: object, action: str) -> bool:
    return (obj.status, action) in machine_of(obj).table  # type: ignore[attr-defined]


def insert_new(session: Session, obj: Any) -> None:
    """Write a new object before its creation move, when its id is needed first (an export
    request's files are held under its id before it is requested): its state stays unset
    (``None``) for ``transition`` until that move, which must come in the same transaction."""
    session.add(obj)
    session.flush()
    set_committed_value(obj, "status", None)


def transition(
    portal: Portal, obj: Any, action: str, *, actor: str, logged: bool = False, **details: Any
) -> Move:
    """Make the move ``action`` from the object's state and record its audit event.

    Refused with ``InvalidTransition`` when the table has no such move; nothing is changed or
    recorded then. A new object (creation) must be in a session already; it is flushed so that
    its id names the event. ``details`` go into the event (``index_into`` as ``record`` takes it).
    ``logged`` says the event of this very move is in the log already (a destruction certificate
    appended before a crash, found by its start time): it is not recorded a second time.
    """
    move = move_of(obj, action)
    obj.status = move.to
    if inspect(obj).identity is None:
        session = object_session(obj)
        if session is None:
            raise RuntimeError("add a new object to the session before its first transition")
        session.flush()
    if move.event is not None and not logged:
        subject, object_ = machine_of(obj).about(obj)
        record(portal, move.event, actor=actor, subject=subject, object=object_, **details)
    return move
