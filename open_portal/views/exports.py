"""Export requests and destructions as requesters, reviewers and officers see them: pages, held
and released files as HTTP answers, and the JSON of the API."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from open_portal import permissions
from open_portal.exceptions import NotFound
from open_portal.models import (
    DestructionStatus,
    ExportFile,
    ExportRequest,
    ExportStatus,
    Grant,
    GrantDestruction,
)
from open_portal.previews import BY_REFERENCE, MEDIA_TYPES, SANDBOX_HEADERS, render_preview
from open_portal.service import destruction, exports
from open_portal.service.context import Portal
from open_portal.service.exports import readiness
from open_portal.service.exports.lifecycle import shown_group
from open_portal.web import render


class FileOut(BaseModel):
    """A file as its reader may see it: checks in full for the request's reviewers, otherwise
    the name, size, SHA-256 and outcome of each check, nothing of the content."""

    id: int
    name: str
    group: str
    version: int
    size: int
    sha256: str
    kind: str
    withdrawn: bool
    checks: list[dict[str, Any]]
    failing: list[str]
    response: str
    approved_by: list[str]
    my_vote: str | None


class CommentOut(BaseModel):
    author: str
    visibility: str
    file: int | None
    round: int
    text: str
    time: str  # ISO 8601


class ExportRequestOut(BaseModel):
    id: int
    grant: str
    author: str
    status: str
    round: int
    groups: dict[str, dict[str, Any]]  # name -> context, controls (as the reader may see them)
    reviewers_required: int
    reviews: list[str]
    created_at: str
    submitted_at: str | None
    decided_by: str | None
    released_at: str | None
    manifest_index: int | None
    files: list[FileOut]
    comments: list[CommentOut]


class MissingOut(BaseModel):
    field: str
    file: str
    en: str
    zh: str


class WorkspaceExportOut(ExportRequestOut):
    """The request made from a workspace, what it still lacks and the page to finish it on."""

    missing: list[MissingOut]
    url: str


def file_out(file: ExportFile, reviewer: str = "") -> FileOut:
    checks = list(file.checks) if reviewer else [exports.check_summary(c) for c in file.checks]
    vote = exports.current_vote(file, reviewer) if reviewer else None
    return FileOut(
        id=file.id,
        name=file.name,
        group=file.group,
        version=file.version,
        size=file.size,
        sha256=file.sha256,
        kind=file.kind,
        withdrawn=file.withdrawn,
        checks=checks,
        failing=[c["check"] for c in file.failing_checks],
        response=file.response,
        approved_by=sorted(exports.approvals(file)),
        my_vote=vote.value if vote else None,
    )


def request_out(
    portal: Portal, session: Session, request: ExportRequest, user: str
) -> ExportRequestOut:
    officer = permissions.can_view_held_files(portal.policy, session, user, request, portal.clock())
    return ExportRequestOut(
        id=request.id,
        grant=request.grant_id,
        author=request.author,
        status=request.status.value,
        round=request.round,
        groups={
            name: shown_group(
                group, reviewer=officer, released=request.status is ExportStatus.RELEASED
            )
            for name, group in request.groups.items()
        },
        reviewers_required=request.reviewers_required,
        reviews=sorted(exports.reviewers_of_round(request)),
        created_at=request.created_at.isoformat(),
        submitted_at=request.submitted_at.isoformat() if request.submitted_at else None,
        decided_by=request.decided_by,
        released_at=request.released_at.isoformat() if request.released_at else None,
        manifest_index=request.manifest_index,
        files=[file_out(f, user if officer else "") for f in request.files],
        comments=[
            CommentOut(
                author=c.author,
                visibility=c.visibility.value,
                file=c.file_id,
                round=c.round,
                text=c.text,
                time=c.created_at.isoformat(),
            )
            for c in exports.visible_comments(portal, session, request, user)
        ],
    )


def shown(portal: Portal, *, actor: str, request_id: int) -> ExportRequestOut:
    """One request as the API returns it (after a change, as it is now)."""
    with portal.sessions() as session:
        item = exports.get_request(portal, session, actor=actor, request_id=request_id)
        return request_out(portal, session, item, actor)


def listed(portal: Portal, *, actor: str) -> list[ExportRequestOut]:
    with portal.sessions() as session:
        return [
            request_out(portal, session, r, actor)
            for r in exports.list_requests(portal, session, actor=actor)
        ]


def made_in_workspace(
    request: Request, portal: Portal, *, actor: str, request_id: int, lacking: list[Any]
) -> WorkspaceExportOut:
    url = f"{portal.settings.public_origin}{request.app.state.prefix}/exports/{request_id}"
    return WorkspaceExportOut(
        **shown(portal, actor=actor, request_id=request_id).model_dump(),
        missing=[MissingOut(**m.as_dict()) for m in lacking],
        url=url,
    )


# ---- files ---------------------------------------------------------------------------------


def held_file(portal: Portal, *, actor: str, request_id: int, file_id: int) -> Response:
    """The held copy, shown inline in a sandbox, to the officers reviewing the request only."""
    file, data = exports.file_content(portal, actor=actor, request_id=request_id, file_id=file_id)
    return Response(
        data,
        media_type=MEDIA_TYPES.get(file.kind, "application/octet-stream"),
        headers=SANDBOX_HEADERS,
    )


def released_file(portal: Portal, *, actor: str, request_id: int, file_id: int) -> Response:
    """A released file, for the grant's members."""
    file, data = exports.download(portal, actor=actor, request_id=request_id, file_id=file_id)
    name = file.name.rsplit("/", 1)[-1]
    return Response(
        data,
        media_type="application/octet-stream",
        headers={
            **SANDBOX_HEADERS,
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name, safe='')}",
            "X-Content-SHA256": file.sha256,
        },
    )


# ---- pages ---------------------------------------------------------------------------------


def list_page(request: Request, portal: Portal, *, actor: str) -> HTMLResponse:
    with portal.sessions() as session:
        queue = exports.review_queue(portal, session, actor=actor)
        mine = exports.list_requests(portal, session, actor=actor)
        return render(
            request,
            "exports.html",
            queue=queue,
            reviewer=permissions.can_review_exports(portal.policy, actor),
            items=mine,
            summaries={r.id: exports.summary(r) for r in [*queue, *mine]},
        )


def request_page(request: Request, portal: Portal, *, actor: str, request_id: int) -> HTMLResponse:
    base = request.app.state.prefix
    with portal.sessions() as session:
        item = exports.get_request(portal, session, actor=actor, request_id=request_id)
        view = request_out(portal, session, item, actor).model_dump(mode="json")
        rights = permissions.export_rights(portal.policy, session, actor, item, portal.clock())
        lacking = readiness.missing(item) if rights["edit"] else []
        held = [(f.id, f.kind) for f in item.files if not f.withdrawn] if rights["held"] else []
    previews = {}
    for file_id, kind in held:
        src = f"{base}/exports/{request_id}/files/{file_id}"
        # the browser fetches the file: that read is the one recorded (SVG and HTML are also
        # shown as their source, read here)
        if kind in BY_REFERENCE and kind not in ("svg", "html"):
            previews[file_id] = render_preview(kind, b"", src)
            continue
        try:
            file, data = exports.file_content(
                portal, actor=actor, request_id=request_id, file_id=file_id, purpose="preview"
            )
        except NotFound:
            continue
        previews[file_id] = render_preview(file.kind, data, src)
    return render(request, "export.html", r=view, rights=rights, previews=previews, missing=lacking)


def release_page(request: Request, portal: Portal, *, actor: str, request_id: int) -> HTMLResponse:
    evidence = exports.release_evidence(portal, actor=actor, request_id=request_id)
    with portal.sessions() as session:
        item = exports.get_request(portal, session, actor=actor, request_id=request_id)
        view = request_out(portal, session, item, actor).model_dump(mode="json")
        member = permissions.can_download_export(
            portal.policy, session, actor, item, portal.clock()
        )
    return render(
        request,
        "export_release.html",
        r=view,
        manifest=evidence["entry"]["details"]["manifest"],
        evidence=json.dumps(evidence, ensure_ascii=False, indent=2),
        member=member,
    )


def _destruction_view(record: GrantDestruction | None) -> dict[str, Any] | None:
    if record is None:
        return None
    return {
        "status": record.status.value,
        "triggered_by": record.triggered_by,
        "confirmed_by": record.confirmed_by,
        "reason": record.reason,
        "steps": list(record.steps),
        "started_at": record.started_at.isoformat(),
        "finished_at": record.finished_at.isoformat() if record.finished_at else None,
    }


def destruction_page(
    request: Request, portal: Portal, *, actor: str, grant_id: str
) -> HTMLResponse:
    with portal.sessions() as session:
        record = destruction.destruction_of(portal, session, actor=actor, grant_id=grant_id)
        view = _destruction_view(record)
        grant = session.get(Grant, grant_id)
        assert grant is not None
        status = grant.status.value
        waiting = [r.id for r in exports.under_review(session, grant_id)]
        now = portal.clock()
        rights = {
            "start": record is None
            and permissions.can_start_destruction(portal.policy, session, actor, grant, now),
            "confirm": record is not None
            and record.status is DestructionStatus.REQUESTED
            and permissions.can_confirm_destruction(
                portal.policy, session, actor, grant, now, started_by=record.triggered_by
            ),
        }
    evidence = None
    if record is not None and record.certificate_index is not None:
        evidence = destruction.certificate(portal, actor=actor, grant_id=grant_id)
    return render(
        request,
        "destruction.html",
        grant_id=grant_id,
        grant_status=status,
        record=view,
        rights=rights,
        waiting=waiting,
        certificate=evidence["entry"]["details"] if evidence else None,
        evidence=json.dumps(evidence, ensure_ascii=False, indent=2) if evidence else "",
    )
