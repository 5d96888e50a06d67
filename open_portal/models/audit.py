"""The audit outbox and the audit index: the database side of the signed log.

An event is staged in ``audit_outbox`` in the transaction of the transition it records, so it
commits or rolls back with it; after the commit it is appended to the signed log and moves to
``audit_index``, which also indexes every entry other processes append. Pages and searches read
the index, never the whole log.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from open_portal.models.base import Base

INDEXED_CHARS = 512
"""Longer values (never written by the portal) are indexed by their first characters."""


class AuditOutbox(Base):
    """A committed event not yet in the signed log (its exact canonical JSON)."""

    __tablename__ = "audit_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    target_table: Mapped[str | None] = mapped_column(String(64), default=None)
    """Where to write the event's log index once it is known: table, column, primary key."""
    target_column: Mapped[str | None] = mapped_column(String(64), default=None)
    target_key: Mapped[str | None] = mapped_column(String(256), default=None)
    """The row's primary key, as JSON."""


class AuditIndexEntry(Base):
    """One entry of the signed log: what pages filter on, and its index to read or prove it."""

    __tablename__ = "audit_index"

    log_index: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    type: Mapped[str] = mapped_column(String(INDEXED_CHARS), index=True)
    actor: Mapped[str] = mapped_column(String(INDEXED_CHARS), index=True)
    subject: Mapped[str | None] = mapped_column(String(INDEXED_CHARS), index=True)
    object: Mapped[str | None] = mapped_column(String(INDEXED_CHARS), index=True)
    time: Mapped[datetime] = mapped_column(index=True)
    datasets: Mapped[str] = mapped_column(Text, default="")
    """The datasets the event names (subject, object, ``details.datasets``), space-separated."""
