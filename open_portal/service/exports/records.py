"""Loading a request, its grant and its files, and what follows from their votes."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from open_portal.exceptions import NotFound
from open_portal.models import ExportFile, ExportRequest, Grant, Vote


def get_export(session: Session, request_id: int, *, lock: bool = False) -> ExportRequest:
    """The request; ``lock`` holds its row until commit, so concurrent changes serialise."""
    request = session.get(ExportRequest, request_id, with_for_update=lock, populate_existing=lock)
    if request is None:
        raise NotFound(f"no export request #{request_id}", zh=f"没有导出申请 #{request_id}")
    return request


def get_grant(session: Session, grant_id: str) -> Grant:
    grant = session.get(Grant, grant_id)
    if grant is None:
        raise NotFound(f"no grant {grant_id!r}", zh=f"没有授权 {grant_id}")
    return grant


def file_of(request: ExportRequest, file_id: int) -> ExportFile:
    for file in request.files:
        if file.id == file_id:
            return file
    raise NotFound(f"no file {file_id} in export request #{request.id}", zh="导出申请中没有该文件")


def active_files(request: ExportRequest) -> list[ExportFile]:
    return [f for f in request.files if not f.withdrawn]


def current_vote(file: ExportFile, reviewer: str) -> Vote | None:
    for v in file.votes:
        if v.reviewer == reviewer and v.file_version == file.version:
            return v.vote
    return None


def approvals(file: ExportFile) -> set[str]:
    """Officers approving the current version, when no officer asks for changes to it."""
    current = [v for v in file.votes if v.file_version == file.version]
    if any(v.vote == Vote.CHANGES for v in current):
        return set()
    return {v.reviewer for v in current if v.vote == Vote.APPROVE}


def reviewers_of_round(request: ExportRequest) -> set[str]:
    return {r.reviewer for r in request.reviews if r.round == request.round}


def completed(request: ExportRequest, reviewer: str) -> bool:
    return reviewer in reviewers_of_round(request)


def file_entry(file: ExportFile) -> dict[str, Any]:
    return {
        "name": file.name,
        "group": file.group,
        "version": file.version,
        "size": file.size,
        "sha256": file.sha256,
    }
