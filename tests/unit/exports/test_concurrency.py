"""Two officers finishing their reviews of an L3 request at the same moment: the request ends up
reviewed, whichever commits first (on SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from unit.exports.export_helpers import SAFE_TABLE, make_grant, outbox

from open_portal.models import ExportRequest, ExportStatus, Level, Vote
from open_portal.service import exports
from open_portal.service.context import Portal


@pytest.mark.parametrize("attempt", range(3))
def test_concurrent_reviews_both_count(portal: Portal, tmp_path: Path, attempt: int) -> None:
    grant_id = make_grant(portal, Level.L3)
    (outbox(tmp_path, grant_id) / "t.csv").write_text(SAFE_TABLE)
    request = exports.request_export(
        portal,
        actor="researcher",
        grant_id=grant_id,
        files=["t.csv"],
        justification="表",
        controls="汇总",
    )
    exports.submit(portal, actor="researcher", request_id=request.id)
    file_id = request.files[0].id
    for officer in ("officer", "officer2"):
        exports.vote(
            portal, actor=officer, request_id=request.id, file_id=file_id, decision=Vote.APPROVE
        )
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def finish(officer: str) -> None:
        barrier.wait()
        try:
            exports.complete_review(portal, actor=officer, request_id=request.id)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=finish, args=(o,)) for o in ("officer", "officer2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with portal.sessions() as session:
        row = session.get(ExportRequest, request.id)
        assert row is not None
        assert row.status == ExportStatus.REVIEWED
        assert sorted(exports.reviewers_of_round(row)) == ["officer", "officer2"]
