"""The one way the service layer records what happened, and reads it back.

``record`` stages an event in the audit outbox of the transaction in progress (the innermost
``portal.sessions.begin()`` block of this thread), so the event commits or rolls back with the
transition it records: a transition that fails leaves nothing in the log. Right after the
commit, ``flush`` appends the outbox to the signed log in order and indexes it; if the process
dies in between, the outbox is still committed and the next flush (at the latest when the
portal starts) appends it, once: entries already in the log are recognised by their bytes.

The index table (``audit_index``) holds every entry of the log, including those other
processes append (the hub's workspace events, the CLI), so pages and searches never re-read
the whole log.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Table,
    and_,
    delete,
    event,
    func,
    inspect,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session, SessionTransaction, SessionTransactionOrigin
from sqlalchemy.orm.attributes import set_committed_value

from audit import AuditEvent
from open_portal.models import AuditIndexEntry, AuditOutbox, Base
from open_portal.models.audit import INDEXED_CHARS
from open_portal.service.context import Portal

_logger = logging.getLogger(__name__)

_open: ContextVar[tuple[tuple[Portal, Session], ...]] = ContextVar("audit_sessions", default=())
"""The explicitly begun sessions of this thread (or task), innermost last."""

_BATCH = 1000
_STAGED = "audit_staged"
_COMMITTED = "audit_committed"
_OUTBOX: Table = AuditOutbox.__table__  # type: ignore[assignment]
_INDEX: Table = AuditIndexEntry.__table__  # type: ignore[assignment]


def record(
    portal: Portal,
    type: str,
    *,
    actor: str,
    subject: str | None = None,
    object: str | None = None,
    index_into: tuple[Any, str] | None = None,
    **details: Any,
) -> None:
    """Record an event of the transition in progress; it reaches the log once that commits.

    Outside a ``portal.sessions.begin()`` block the event commits on its own, at once.
    ``index_into=(row, "column")`` writes the event's log index into that column of that
    mapped row when it is appended (e.g. a release manifest, a destruction certificate).
    """
    staged = AuditEvent(
        type=type,
        actor=actor or "anonymous",
        subject=subject,
        object=object,
        details=details,
        time=portal.clock(),
    )
    session = next((s for p, s in reversed(_open.get()) if p is portal), None)
    if session is None:
        with portal.sessions.begin() as own:
            _stage(own, staged, index_into)
    else:
        _stage(session, staged, index_into)


def _stage(session: Session, staged: AuditEvent, index_into: tuple[Any, str] | None) -> None:
    row = AuditOutbox(payload=staged.canonical_json())
    if index_into is not None:
        target, column = index_into
        state = inspect(target)
        if state.identity is None:
            session.flush([target])
        (key,) = state.identity
        row.target_table = state.mapper.local_table.name
        row.target_column = column
        row.target_key = json.dumps(key)
    session.add(row)
    session.info.setdefault(_STAGED, []).append((row, index_into))


# ---- wiring into the portal's sessions ----------------------------------------------------


def install(portal: Portal) -> None:
    """Track the portal's sessions so ``record`` finds the transaction it belongs to."""

    def opened(session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None and transaction.origin == SessionTransactionOrigin.BEGIN:
            _open.set((*_open.get(), (portal, session)))

    def committed(session: Session) -> None:
        if session.info.get(_STAGED):
            session.info[_COMMITTED] = session.info.pop(_STAGED)

    def ended(session: Session, transaction: SessionTransaction) -> None:
        """After the connection went back to the pool: flush what the commit made durable."""
        if transaction.parent is not None:
            return
        _open.set(tuple(e for e in _open.get() if e[1] is not session))
        session.info.pop(_STAGED, None)
        staged = session.info.pop(_COMMITTED, None)
        if not staged:
            return
        try:
            indices = flush(portal)
        except Exception:
            _logger.exception("audit events committed but not yet appended; they stay queued")
            return
        for row, index_into in staged:
            if index_into is not None and row.id in indices:
                set_committed_value(index_into[0], index_into[1], indices[row.id])

    event.listen(portal.sessions, "after_transaction_create", opened)
    event.listen(portal.sessions, "after_transaction_end", ended)
    event.listen(portal.sessions, "after_commit", committed)


# ---- from the outbox to the log and the index ----------------------------------------------


def flush(portal: Portal) -> dict[int, int]:
    """Append every committed outbox event to the log and index every new log entry.

    Returns the log index of each outbox row appended, by row id. One flush at a time runs,
    across threads (a lock) and processes (a database lock held while it appends).
    """
    with portal.audit_lock:
        if _in_step(portal):
            return {}
        appended: dict[int, int] = {}
        with portal.engine.begin() as conn:
            _lock(conn)
            pending = {r.id: r for r in conn.execute(select(_OUTBOX).order_by(_OUTBOX.c.id))}
            by_bytes: dict[bytes, list[int]] = {}
            for row in pending.values():
                by_bytes.setdefault(bytes(row.payload), []).append(row.id)
            # entries already in the log: appended by others, or by a flush that died
            for index, leaf in _index_tail(portal, conn):
                waiting = by_bytes.get(leaf)
                if waiting:
                    appended[waiting.pop(0)] = index
            rest = [r for r in pending.values() if r.id not in appended]
            if rest:
                events = [AuditEvent.from_json(bytes(r.payload), check=False) for r in rest]
                indices = portal.audit.append_many(events)
                _index_tail(portal, conn, stop=indices[0])
                _insert(conn, zip(indices, events, strict=True))
                appended.update(zip([r.id for r in rest], indices, strict=True))
            for row_id, index in appended.items():
                _write_target(conn, pending[row_id], index)
            if pending:
                conn.execute(delete(_OUTBOX).where(_OUTBOX.c.id.in_(list(pending))))
        return appended


def _in_step(portal: Portal) -> bool:
    """Nothing to do: no outbox event and every log entry indexed (two cheap queries)."""
    with portal.engine.connect() as conn:
        if conn.scalar(select(_OUTBOX.c.id).limit(1)) is not None:
            return False
        indexed = conn.scalar(select(func.max(_INDEX.c.log_index)))
    return (-1 if indexed is None else indexed) + 1 >= portal.audit.size


def _lock(conn: Connection) -> None:
    """Serialize flushes across processes until this transaction ends."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(7256000013)"))
    else:  # SQLite: any write statement takes the database's write lock
        conn.execute(update(_OUTBOX).where(_OUTBOX.c.id < 0).values(id=_OUTBOX.c.id))


def _index_tail(
    portal: Portal, conn: Connection, stop: int | None = None
) -> list[tuple[int, bytes]]:
    """Index the log entries after the last indexed one (up to ``stop``); returns them."""
    last = conn.scalar(select(func.max(_INDEX.c.log_index)))
    start = 0 if last is None else last + 1
    new: list[tuple[int, bytes]] = []
    batch: list[tuple[int, AuditEvent]] = []
    for index, leaf in portal.audit.leaves(start, stop):
        new.append((index, leaf))
        batch.append((index, AuditEvent.from_json(leaf, check=False)))
        if len(batch) == _BATCH:
            _insert(conn, batch)
            batch = []
    _insert(conn, batch)
    return new


def _insert(conn: Connection, entries: Iterable[tuple[int, AuditEvent]]) -> None:
    rows = [
        {
            "log_index": index,
            "type": e.type[:INDEXED_CHARS],
            "actor": e.actor[:INDEXED_CHARS],
            "subject": None if e.subject is None else e.subject[:INDEXED_CHARS],
            "object": None if e.object is None else e.object[:INDEXED_CHARS],
            "time": e.time,
            "datasets": _datasets_of(e),
        }
        for index, e in entries
    ]
    if rows:
        conn.execute(_INDEX.insert(), rows)


def _datasets_of(e: AuditEvent) -> str:
    """The datasets an event names, as `` a b `` (spaces around each, for a LIKE search)."""
    names = [
        v.removeprefix("dataset:") for v in (e.subject, e.object) if v and v.startswith("dataset:")
    ]
    listed = e.details.get("datasets")
    if isinstance(listed, tuple):
        names += [str(v) for v in listed]
    elif isinstance(listed, Mapping):
        names += [str(k) for k in listed]
    return "".join(f" {n} " for n in dict.fromkeys(names) if " " not in n)


def _write_target(conn: Connection, row: Any, index: int) -> None:
    if row.target_table is None:
        return
    table: Table = Base.metadata.tables[row.target_table]
    (key_column,) = table.primary_key.columns
    conn.execute(
        update(table)
        .where(key_column == json.loads(row.target_key))
        .values({row.target_column: index})
    )


# ---- reading ------------------------------------------------------------------------------


def event_view(event: AuditEvent) -> dict[str, Any]:
    """The event as plain JSON (details thawed from their read-only form)."""
    return event.to_dict()


NOISE = ("export.file_viewed",)
"""Event types hidden from the timeline unless asked for: every look at a held file."""


@dataclass(frozen=True)
class TimelinePage:
    """One page of the timeline, newest first, with what the page links need."""

    events: list[tuple[int, AuditEvent]]
    total: int  # events matching the filters
    hidden: int  # matching events of the noise types, left out
    older: int | None  # ``before`` of the next (older) page
    newer: int | None  # ``after`` of the previous (newer) page


def timeline(
    portal: Portal,
    *,
    actor: str = "",
    type_prefix: str = "",
    dataset: str = "",
    grant: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    noise: bool = False,
    before: int | None = None,
    after: int | None = None,
    size: int = 50,
) -> TimelinePage:
    """A page of matching events (on the index): the ``size`` before ``before`` (or after
    ``after``, or the newest); the types in ``NOISE`` are left out unless ``noise``."""
    flush(portal)
    c = _INDEX.c
    where = _filters(
        actor=actor, type_prefix=type_prefix, dataset=dataset, grant=grant, since=since, until=until
    )
    shown = where if noise else [*where, c.type.not_in(NOISE)]
    query = select(c.log_index).where(*shown)
    if after is not None:
        query = query.where(c.log_index > after).order_by(c.log_index).limit(size)
    else:
        if before is not None:
            query = query.where(c.log_index < before)
        query = query.order_by(c.log_index.desc()).limit(size)
    with portal.engine.connect() as conn:
        indices = sorted(conn.scalars(query), reverse=True)
        total = conn.scalar(select(func.count()).select_from(_INDEX).where(*shown)) or 0
        hidden = 0
        if not noise:
            noisy = [*where, c.type.in_(NOISE)]
            hidden = conn.scalar(select(func.count()).select_from(_INDEX).where(*noisy)) or 0
        older = newer = None
        if indices:
            more = select(c.log_index).where(*shown).limit(1)
            if conn.scalar(more.where(c.log_index < indices[-1])) is not None:
                older = indices[-1]
            if conn.scalar(more.where(c.log_index > indices[0])) is not None:
                newer = indices[0]
    events = list(zip(indices, events_at(portal, indices), strict=True))
    return TimelinePage(events, total, hidden, older, newer)


def _filters(
    *,
    actor: str,
    type_prefix: str,
    dataset: str,
    grant: str,
    since: datetime | None,
    until: datetime | None,
) -> list[Any]:
    c = _INDEX.c
    where: list[Any] = []
    if actor:
        where.append(c.actor == actor)
    if type_prefix:
        where.append(c.type.startswith(type_prefix, autoescape=True))
    if grant:
        where.append(_about(f"grant:{grant}"))
    if dataset:
        where.append(c.datasets.contains(f" {dataset} ", autoescape=True))
    if since:
        where.append(c.time >= since)
    if until:
        where.append(c.time < until)
    return where


def known_values(portal: Portal) -> tuple[list[str], list[str]]:
    """The event types and the actors in the log, for the timeline's filter choices."""
    flush(portal)
    c = _INDEX.c
    with portal.engine.connect() as conn:
        types = list(conn.scalars(select(c.type).distinct().order_by(c.type)))
        actors = list(conn.scalars(select(c.actor).distinct().order_by(c.actor)))
    return types, actors


def search(
    portal: Portal,
    *,
    actor: str = "",
    type_prefix: str = "",
    dataset: str = "",
    grant: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 200,
) -> list[tuple[int, AuditEvent]]:
    """Newest first, filtered by actor, type prefix, dataset, grant and time (on the index)."""
    flush(portal)
    c = _INDEX.c
    where = _filters(
        actor=actor, type_prefix=type_prefix, dataset=dataset, grant=grant, since=since, until=None
    )
    query = select(c.log_index).where(*where).order_by(c.log_index.desc()).limit(limit)
    if until:  # the API's ``until`` is inclusive
        query = query.where(c.time <= until)
    with portal.engine.connect() as conn:
        indices = list(conn.scalars(query))
    return list(zip(indices, events_at(portal, indices), strict=True))


def _about(tag: str) -> Any:
    return or_(_INDEX.c.subject == tag, _INDEX.c.object == tag)


def events_at(portal: Portal, indices: Sequence[int]) -> Iterator[AuditEvent]:
    """The events at these log indices (each read and checked against its leaf hash)."""
    for index in indices:
        yield AuditEvent.from_json(portal.audit.leaf(index), check=False)


def indices_about(portal: Portal, subject: str, *types: str) -> list[tuple[int, str, datetime]]:
    """``(index, type, time)`` of the entries whose subject or object is ``subject``, oldest first."""
    flush(portal)
    c = _INDEX.c
    query = select(c.log_index, c.type, c.time).where(_about(subject)).order_by(c.log_index)
    if types:
        query = query.where(c.type.in_(types))
    with portal.engine.connect() as conn:
        return [(i, t, time) for i, t, time in conn.execute(query)]


def latest_index(portal: Portal, type: str, subject: str) -> int | None:
    """The index of the latest entry of ``type`` about ``subject`` (as subject), if any."""
    flush(portal)
    c = _INDEX.c
    query = select(func.max(c.log_index)).where(and_(c.type == type, c.subject == subject))
    with portal.engine.connect() as conn:
        return conn.scalar(query)


def grant_evidence(portal: Portal, grant_id: str) -> dict[str, Any]:
    """An evidence bundle: each event of the grant with its inclusion proof and one checkpoint."""
    indices = [i for i, _, _ in indices_about(portal, f"grant:{grant_id}")]
    checkpoint = portal.audit.checkpoint()
    return {
        "grant": grant_id,
        "vkey": portal.audit.vkey(),
        "checkpoint": checkpoint,
        "entries": [portal.audit.evidence(i) for i in indices],
    }
