"""Audit events only for what happened: the outbox, the flush after commit, and the index.

Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from factories import add_dataset, portal_at, submitted_application
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from audit import AuditEvent
from open_portal.exceptions import InvalidInput
from open_portal.models import (
    Application,
    ApplicationStatus,
    AuditIndexEntry,
    AuditOutbox,
    Decision,
    Grant,
    Level,
)
from open_portal.service import applications, auditing
from open_portal.service.context import Portal
from open_portal.service.usage import grant_usage


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def portal(data_dir: Path, database_url: str) -> Iterator[Portal]:
    with portal_at(data_dir, database_url) as p:
        add_dataset(p, "tickets", Level.L2, publisher="hotline")
        p.policy.assign_role("owner", "owner", "dept:hotline")
        yield p


def status(portal: Portal, application_id: int) -> ApplicationStatus:
    with portal.sessions() as session:
        app = session.get(Application, application_id)
        assert app is not None
        return app.status


def logged(portal: Portal, start: int = 0) -> list[AuditEvent]:
    return [e for _, e in portal.audit.entries(start)]


def about(portal: Portal, subject: str, start: int = 0) -> list[str]:
    return [e.type for e in logged(portal, start) if subject in (e.subject, e.object)]


def outbox_rows(portal: Portal) -> int:
    with portal.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(AuditOutbox)) or 0


def index_matches_log(portal: Portal) -> None:
    """The index holds exactly the log's entries, each with its type, actor, subject, object."""
    with portal.engine.connect() as conn:
        rows = conn.execute(
            select(
                AuditIndexEntry.log_index,
                AuditIndexEntry.type,
                AuditIndexEntry.actor,
                AuditIndexEntry.subject,
                AuditIndexEntry.object,
            ).order_by(AuditIndexEntry.log_index)
        ).all()
    expected = [(i, e.type, e.actor, e.subject, e.object) for i, e in portal.audit.entries()]
    assert [tuple(r) for r in rows] == expected


@pytest.fixture
def failing_commits(portal: Portal) -> Iterator[list[bool]]:
    """Set ``[True]`` to make the next database commit of the portal fail, as a lost server does."""
    fail = [False]

    def commit(conn: Any) -> None:
        if fail[0]:
            fail[0] = False
            raise OperationalError("COMMIT", {}, Exception("server closed the connection"))

    event.listen(portal.engine, "commit", commit)
    yield fail
    event.remove(portal.engine, "commit", commit)


def test_an_approval_failing_after_validation_leaves_no_event(portal: Portal) -> None:
    app_id = submitted_application(portal, ["tickets"], epsilon="0.0000000001")
    before = portal.audit.size
    with pytest.raises(InvalidInput, match="ε"):
        applications.review(portal, actor="owner", application_id=app_id, decision=Decision.APPROVE)
    assert status(portal, app_id) == ApplicationStatus.SUBMITTED
    assert logged(portal, before) == []
    assert outbox_rows(portal) == 0
    with portal.sessions() as session:
        assert session.scalars(select(Grant)).all() == []
    index_matches_log(portal)


def test_a_transition_whose_commit_fails_leaves_no_event(
    portal: Portal, failing_commits: list[bool]
) -> None:
    app_id = submitted_application(portal, ["tickets"])
    before = portal.audit.size
    failing_commits[0] = True
    with pytest.raises(OperationalError):
        applications.review(portal, actor="owner", application_id=app_id, decision=Decision.APPROVE)
    assert status(portal, app_id) == ApplicationStatus.SUBMITTED
    assert logged(portal, before) == []
    assert outbox_rows(portal) == 0

    applications.review(portal, actor="owner", application_id=app_id, decision=Decision.APPROVE)
    assert status(portal, app_id) == ApplicationStatus.APPROVED
    assert about(portal, f"application:{app_id}", before) == [
        "application.review.approve",
        "application.approved",
    ]
    assert about(portal, "grant:g0001", before) == ["grant.created"]
    index_matches_log(portal)


def test_events_recorded_outside_a_transaction_commit_at_once(
    portal: Portal, failing_commits: list[bool]
) -> None:
    before = portal.audit.size
    auditing.record(portal, "role.granted", actor="admin", subject="user:x", role="officer")
    assert [e.type for e in logged(portal, before)] == ["role.granted"]
    failing_commits[0] = True
    with pytest.raises(OperationalError):
        auditing.record(portal, "role.granted", actor="admin", subject="user:y")
    assert len(logged(portal, before)) == 1


def test_events_committed_before_a_crash_are_appended_at_start_once(
    portal: Portal, data_dir: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app_id = submitted_application(portal, ["tickets"])
    before = portal.audit.size

    def disk_full(events: Any) -> list[int]:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(portal.audit, "append_many", disk_full)
    applications.withdraw(portal, actor="researcher", application_id=app_id)
    assert status(portal, app_id) == ApplicationStatus.WITHDRAWN  # the transition committed
    assert logged(portal, before) == [] and outbox_rows(portal) == 1
    monkeypatch.undo()
    portal.close()

    with portal_at(data_dir, database_url, demo_accounts=False) as again:
        assert about(again, f"application:{app_id}", before) == ["application.withdrawn"]
        assert outbox_rows(again) == 0
        index_matches_log(again)


def test_a_flush_that_dies_after_appending_does_not_append_twice(
    portal: Portal, failing_commits: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    app_id = submitted_application(portal, ["tickets"])
    before = portal.audit.size
    append_many = portal.audit.append_many

    def append_then_lose_the_database(events: Any) -> list[int]:
        indices = append_many(events)
        failing_commits[0] = True  # the flush's own commit fails after the log took the events
        return indices

    monkeypatch.setattr(portal.audit, "append_many", append_then_lose_the_database)
    applications.withdraw(portal, actor="researcher", application_id=app_id)
    monkeypatch.undo()
    assert outbox_rows(portal) == 1  # still queued: the flush did not commit
    assert about(portal, f"application:{app_id}", before) == ["application.withdrawn"]

    auditing.flush(portal)
    assert about(portal, f"application:{app_id}", before) == ["application.withdrawn"]
    assert outbox_rows(portal) == 0
    index_matches_log(portal)


def test_concurrent_transitions_each_log_once(portal: Portal) -> None:
    ids = [submitted_application(portal, ["tickets"]) for _ in range(8)]
    before = portal.audit.size
    errors: list[BaseException] = []

    def withdraw(app_id: int) -> None:
        try:
            applications.withdraw(portal, actor="researcher", application_id=app_id)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=withdraw, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    subjects = sorted(e.subject or "" for e in logged(portal, before))
    assert subjects == sorted(f"application:{i}" for i in ids)
    index_matches_log(portal)


def test_the_index_takes_entries_other_processes_append_and_pages_read_only_it(
    portal: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = portal.clock()
    for kind, minutes in (("workspace.started", 0), ("workspace.stopped", 30)):
        portal.audit.append(  # as the hub's spawner does, straight into the log
            AuditEvent(
                type=kind,
                actor="researcher",
                subject="grant:g0042",
                time=start + dt.timedelta(minutes=minutes),
            )
        )
    auditing.record(
        portal,
        "application.created",
        actor="researcher",
        subject="application:9",
        datasets=["tickets", "other"],
    )
    read: list[tuple[int, int | None]] = []
    leaves = portal.audit.leaves

    def counted(first: int = 0, stop: int | None = None) -> Any:
        read.append((first, stop))
        return leaves(first, stop)

    monkeypatch.setattr(portal.audit, "leaves", counted)
    found = auditing.search(portal, grant="g0042")
    assert [e.type for _, e in found] == ["workspace.stopped", "workspace.started"]
    assert [e.subject for _, e in auditing.search(portal, dataset="tickets")] == ["application:9"]
    assert auditing.search(portal, dataset="ticket") == []
    assert (
        auditing.search(portal, actor="researcher", type_prefix="workspace.s", limit=1)[0][1].type
        == "workspace.stopped"
    )
    assert (
        auditing.search(portal, since=start + dt.timedelta(minutes=10), grant="g0042")[0][1].type
        == "workspace.stopped"
    )
    grant = Grant(id="g0042")
    assert grant_usage(portal, grant).workspace_seconds == pytest.approx(1800)
    assert read == [], "pages read the index and the entries they show, never the whole log"
    index_matches_log(portal)


def test_an_existing_log_is_indexed_when_the_portal_starts(
    data_dir: Path, database_url: str
) -> None:
    from audit import AuditLog

    with AuditLog.open(data_dir / "audit") as log:
        log.append_many(
            [
                AuditEvent(type="dataset.downloaded", actor=f"u{i}", subject="dataset:x")
                for i in range(30)
            ]
        )
    with portal_at(data_dir, database_url, demo_accounts=False) as portal:
        with portal.engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(AuditIndexEntry)) == 30
        index_matches_log(portal)
        assert len(auditing.search(portal, dataset="x", limit=1000)) == 30
