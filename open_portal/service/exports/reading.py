"""Reading requests: the held copies (for their reviewers, audited), released files (for the
grant's members), the release evidence, lists and queues, and what requesters see of checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from open_portal import permissions
from open_portal.exceptions import Forbidden, InvalidTransition, NotFound
from open_portal.models import ExportComment, ExportFile, ExportRequest, Visibility
from open_portal.service.auditing import record
from open_portal.service.context import Portal
from open_portal.service.exports import holding
from open_portal.service.exports.records import (
    active_files,
    completed,
    file_of,
    get_export,
    get_grant,
)
from open_portal.service.exports.states import UNDER_REVIEW, VOTING, E


def file_content(
    portal: Portal, *, actor: str, request_id: int, file_id: int, purpose: str = "file"
) -> tuple[ExportFile, bytes]:
    """The held copy of a file, for the officers who review the request (one audit event).

    ``purpose`` says how the bytes are shown (``file``: served as they are; ``preview``: rendered
    into the request page). Nothing is recorded when the bytes are refused or cannot be read.
    """
    with portal.sessions.begin() as session:
        request = get_request(portal, session, actor=actor, request_id=request_id)
        if not permissions.can_view_held_files(
            portal.policy, session, actor, request, portal.clock()
        ):
            raise Forbidden(
                "held files are shown only to the officers reviewing the request, once it is "
                "submitted; requesters download the files after their release",
                zh="暂存文件仅向审核此申请的安全审核员展示（提交之后）；申请人在放行后下载",
            )
        file = file_of(request, file_id)
        if file.withdrawn:
            raise NotFound(f"{file.name} was withdrawn", zh=f"{file.name} 已撤回")
        data = holding.unseal(portal, get_grant(session, request.grant_id), file)
        record(
            portal,
            "export.file_viewed",
            actor=actor,
            subject=f"grant:{request.grant_id}",
            object=f"export:{request.id}",
            file=file.name,
            version=file.version,
            sha256=file.sha256,
            purpose=purpose,
        )
        session.expunge(file)
    return file, data


def download(
    portal: Portal, *, actor: str, request_id: int, file_id: int
) -> tuple[ExportFile, bytes]:
    """A released file, for a member of the grant only."""
    with portal.sessions.begin() as session:
        request = get_request(portal, session, actor=actor, request_id=request_id)
        permissions.check_can_download_export(
            portal.policy, session, actor, request, portal.clock()
        )
        if request.status != E.RELEASED:
            raise InvalidTransition(
                "only released files can be downloaded", zh="只有已放行的文件可以下载"
            )
        file = file_of(request, file_id)
        if file.withdrawn:
            raise NotFound(f"{file.name} was not released", zh=f"{file.name} 未放行")
        data = holding.unseal(portal, get_grant(session, request.grant_id), file)
        record(
            portal,
            "export.downloaded",
            actor=actor,
            subject=f"grant:{request.grant_id}",
            object=f"export:{request.id}",
            file=file.name,
            sha256=file.sha256,
        )
        session.expunge(file)
    return file, data


def release_evidence(portal: Portal, *, actor: str, request_id: int) -> dict[str, Any]:
    """The release manifest's audit entry with its inclusion proof and a signed checkpoint."""
    with portal.sessions() as session:
        request = get_request(portal, session, actor=actor, request_id=request_id)
        if request.manifest_index is None:
            raise NotFound("the request is not released", zh="导出申请尚未放行")
        index = request.manifest_index
    return portal.audit.evidence(index)


def get_request(portal: Portal, session: Session, *, actor: str, request_id: int) -> ExportRequest:
    request = get_export(session, request_id)
    if not permissions.can_read_export(portal.policy, session, actor, request, portal.clock()):
        raise NotFound(f"no export request #{request_id}", zh=f"没有导出申请 #{request_id}")
    return request


def list_requests(
    portal: Portal, session: Session, *, actor: str, grant_id: str | None = None
) -> list[ExportRequest]:
    """Requests the actor may read, newest first."""
    query = select(ExportRequest).order_by(ExportRequest.id.desc())
    if grant_id is not None:
        query = query.where(ExportRequest.grant_id == grant_id)
    now = portal.clock()
    return [
        r
        for r in session.scalars(query)
        if permissions.can_read_export(portal.policy, session, actor, r, now)
    ]


def review_queue(portal: Portal, session: Session, *, actor: str) -> list[ExportRequest]:
    """Requests under review that wait for this officer: a review to finish or a decision."""
    waiting = session.scalars(
        select(ExportRequest)
        .where(ExportRequest.status.in_(sorted(UNDER_REVIEW | {E.APPROVED})))
        .order_by(ExportRequest.id)
    )
    out = []
    now = portal.clock()
    for request in waiting:
        if not permissions.can_review_export(portal.policy, session, actor, request, now):
            continue
        if request.status in VOTING and completed(request, actor):
            continue
        out.append(request)
    return out


def under_review(session: Session, grant_id: str) -> list[ExportRequest]:
    """The grant's requests waiting for an officer's decision (they block its destruction)."""
    return list(
        session.scalars(
            select(ExportRequest).where(
                ExportRequest.grant_id == grant_id,
                ExportRequest.status.in_(sorted(UNDER_REVIEW)),
            )
        )
    )


def visible_comments(
    portal: Portal, session: Session, request: ExportRequest, user: str
) -> list[ExportComment]:
    officer = permissions.can_review_export(portal.policy, session, user, request, portal.clock())
    return [c for c in request.comments if officer or c.visibility == Visibility.PUBLIC]


def check_summary(result: dict[str, Any]) -> dict[str, Any]:
    """What a requester sees of a check: its name, outcome and counts, never content of the file.

    Failing checks quote the file to its reviewers (cells, column names, masked excerpts, parser
    errors); shown to a requester they would carry bytes out of the workspace without review.
    """
    details = result.get("details") or {}
    counts: dict[str, Any] = {
        k: v
        for k, v in details.items()
        if isinstance(v, int) and not isinstance(v, bool) and k in SUMMARY_COUNTS
    }
    raw = details.get("entities")
    entities = (
        {str(k): v for k, v in raw.items() if isinstance(v, int)} if isinstance(raw, dict) else {}
    )
    passed = bool(result.get("passed"))
    said = ", ".join(
        [f"{k} {v}" for k, v in counts.items()] + [f"{k} × {v}" for k, v in entities.items()]
    )
    if entities:
        counts["entities"] = entities
    return {
        "check": str(result.get("check", "")),
        "passed": passed,
        "message": "passed"
        if passed
        else f"failed{f' ({said})' if said else ''}; the reviewers see the details",
        "message_zh": "通过"
        if passed
        else f"未通过{f'（{said}）' if said else ''}；详情仅审核员可见",
        "details": counts,
    }


SUMMARY_COUNTS = ("failing", "count", "bytes", "limit")


@dataclass(frozen=True)
class RequestSummary:
    """Counts shown in queues."""

    files: int
    failing: int


def summary(request: ExportRequest) -> RequestSummary:
    files = active_files(request)
    return RequestSummary(len(files), sum(1 for f in files if f.failing_checks))
