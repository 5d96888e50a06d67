"""Export requests and grant destruction: officers' queue, the request page with every file
rendered and its checks, votes and comments, the release page with its inclusion proof, the
destruction page with its certificate; the JSON API and the workspace's export endpoint."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from open_portal.auth import Identity
from open_portal.exceptions import InvalidInput, NotFound
from open_portal.models import (
    ExportFile,
    ExportRequest,
    ExportStatus,
    GrantDestruction,
    Visibility,
    Vote,
)
from open_portal.params import GrantId, RowId, Word
from open_portal.previews import BY_REFERENCE, MEDIA_TYPES, SANDBOX_HEADERS, render_preview
from open_portal.service import destruction, exports
from open_portal.service.context import Portal
from open_portal.service.exports import readiness
from open_portal.service.exports.lifecycle import shown_group
from open_portal.web import CsrfDep, Guard, PortalDep, render

router = APIRouter()
# Who may read, change, review or download a request depends on the request and its grant: the
# service layer decides on the loaded resource.
ReaderDep = Annotated[Identity, Depends(Guard("read", "export", per_resource=True))]
EditorDep = Annotated[Identity, Depends(Guard("edit", "export", per_resource=True))]
ReviewerDep = Annotated[Identity, Depends(Guard("review", "export", per_resource=True))]
CreatorDep = Annotated[Identity, Depends(Guard("create", "export", per_resource=True))]
DownloadDep = Annotated[Identity, Depends(Guard("download", "export", per_resource=True))]
GrantReaderDep = Annotated[Identity, Depends(Guard("read", "grant", per_resource=True))]
DestroyerDep = Annotated[Identity, Depends(Guard("destroy", "grant", per_resource=True))]

FILE_ACTIONS = ("approve", "changes", "answer", "update", "withdraw")
REQUEST_ACTIONS = (
    "submit",
    "withdraw",
    "complete_review",
    "approve",
    "reject",
    "return",
    "release",
)


class WorkspaceExport(BaseModel):
    """What the client inside a workspace sends: names of files in its outbox, why, and whether
    to submit the request at once (when nothing is missing)."""

    files: list[str] = Field(min_length=1, max_length=exports.MAX_FILES)
    justification: str = Field("", max_length=4000)
    controls: str = Field("", max_length=4000)
    submit: bool = False


# ---- views ---------------------------------------------------------------------------------


def file_view(file: ExportFile, reviewer: str = "") -> dict[str, Any]:
    """A file as shown to ``reviewer`` (checks in full), or to anyone else (``reviewer=""``:
    name, size, SHA-256 and the outcome of each check, nothing of the content)."""
    checks = list(file.checks) if reviewer else [exports.check_summary(c) for c in file.checks]
    return {
        "id": file.id,
        "name": file.name,
        "group": file.group,
        "version": file.version,
        "size": file.size,
        "sha256": file.sha256,
        "kind": file.kind,
        "withdrawn": file.withdrawn,
        "checks": checks,
        "failing": [c["check"] for c in file.failing_checks],
        "response": file.response,
        "approved_by": sorted(exports.approvals(file)),
        "my_vote": (v.value if (v := exports.current_vote(file, reviewer)) else None)
        if reviewer
        else None,
    }


def request_view(portal: Portal, session: Any, request: ExportRequest, user: str) -> dict[str, Any]:
    officer = exports.may_see_held(portal, session, request, user)
    return {
        "id": request.id,
        "grant": request.grant_id,
        "author": request.author,
        "status": request.status.value,
        "round": request.round,
        "groups": {
            name: shown_group(
                group, reviewer=officer, released=request.status is ExportStatus.RELEASED
            )
            for name, group in request.groups.items()
        },
        "reviewers_required": request.reviewers_required,
        "reviews": sorted(exports.reviewers_of_round(request)),
        "created_at": request.created_at.isoformat(),
        "submitted_at": request.submitted_at.isoformat() if request.submitted_at else None,
        "decided_by": request.decided_by,
        "released_at": request.released_at.isoformat() if request.released_at else None,
        "manifest_index": request.manifest_index,
        "files": [file_view(f, user if officer else "") for f in request.files],
        "comments": [
            {
                "author": c.author,
                "visibility": c.visibility.value,
                "file": c.file_id,
                "round": c.round,
                "text": c.text,
                "time": c.created_at.isoformat(),
            }
            for c in exports.visible_comments(portal, session, request, user)
        ],
    }


# ---- pages ---------------------------------------------------------------------------------


@router.get("/exports", response_class=HTMLResponse)
def exports_page(request: Request, portal: PortalDep, user: ReaderDep) -> HTMLResponse:
    with portal.sessions() as session:
        queue = exports.review_queue(portal, session, actor=user.name)
        mine = exports.list_requests(portal, session, actor=user.name)
        return render(
            request,
            "exports.html",
            queue=queue,
            items=mine,
            summaries={r.id: exports.summary(r) for r in [*queue, *mine]},
        )


@router.get("/exports/{request_id}", response_class=HTMLResponse)
def export_page(
    request: Request, portal: PortalDep, user: ReaderDep, request_id: RowId
) -> HTMLResponse:
    base = request.app.state.prefix
    with portal.sessions() as session:
        item = exports.get_request(portal, session, actor=user.name, request_id=request_id)
        view = request_view(portal, session, item, user.name)
        rights = {
            action: exports.can(portal, session, item, user.name, action)
            for action in ("edit", "review", "decide", "download")
        }
        rights["held"] = exports.may_see_held(portal, session, item, user.name)
        lacking = readiness.missing(item) if rights["edit"] else []
        shown = [(f.id, f.kind) for f in item.files if not f.withdrawn] if rights["held"] else []
    previews = {}
    for file_id, kind in shown:
        src = f"{base}/exports/{request_id}/files/{file_id}"
        # the browser fetches the file: that read is the one recorded (SVG and HTML are also
        # shown as their source, read here)
        if kind in BY_REFERENCE and kind not in ("svg", "html"):
            previews[file_id] = render_preview(kind, b"", src)
            continue
        try:
            file, data = exports.file_content(
                portal, actor=user.name, request_id=request_id, file_id=file_id, purpose="preview"
            )
        except NotFound:
            continue
        previews[file_id] = render_preview(file.kind, data, src)
    return render(request, "export.html", r=view, rights=rights, previews=previews, missing=lacking)


@router.get("/exports/{request_id}/files/{file_id}")
def file_content(portal: PortalDep, user: ReaderDep, request_id: RowId, file_id: RowId) -> Response:
    """The held copy, shown inline in a sandbox, to the officers reviewing the request only."""
    file, data = exports.file_content(
        portal, actor=user.name, request_id=request_id, file_id=file_id
    )
    return Response(
        data,
        media_type=MEDIA_TYPES.get(file.kind, "application/octet-stream"),
        headers=SANDBOX_HEADERS,
    )


@router.get("/exports/{request_id}/files/{file_id}/download")
def download(portal: PortalDep, user: DownloadDep, request_id: RowId, file_id: RowId) -> Response:
    """A released file, for the grant's members."""
    file, data = exports.download(portal, actor=user.name, request_id=request_id, file_id=file_id)
    name = file.name.rsplit("/", 1)[-1]
    return Response(
        data,
        media_type="application/octet-stream",
        headers={
            **SANDBOX_HEADERS,
            "Content-Disposition": f"attachment; filename*=UTF-8''{_quote(name)}",
            "X-Content-SHA256": file.sha256,
        },
    )


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


@router.get("/exports/{request_id}/release", response_class=HTMLResponse)
def release_page(
    request: Request, portal: PortalDep, user: ReaderDep, request_id: RowId
) -> HTMLResponse:
    evidence = exports.release_evidence(portal, actor=user.name, request_id=request_id)
    with portal.sessions() as session:
        item = exports.get_request(portal, session, actor=user.name, request_id=request_id)
        view = request_view(portal, session, item, user.name)
        member = exports.can(portal, session, item, user.name, "download")
    return render(
        request,
        "export_release.html",
        r=view,
        manifest=evidence["entry"]["details"]["manifest"],
        evidence=json.dumps(evidence, ensure_ascii=False, indent=2),
        member=member,
    )


@router.post("/exports/{request_id}/comments", dependencies=[CsrfDep])
def comment_from_form(
    request: Request,
    portal: PortalDep,
    user: ReaderDep,
    request_id: RowId,
    text: Annotated[str, Form()],
    visibility: Annotated[str, Form()] = "public",
    file_id: Annotated[str, Form()] = "",
) -> RedirectResponse:
    exports.comment(
        portal,
        actor=user.name,
        request_id=request_id,
        text=text,
        visibility=_visibility(visibility),
        file_id=int(file_id) if re.fullmatch(r"[1-9][0-9]{0,8}", file_id.strip()) else None,
    )
    return _back(request, request_id)


@router.post("/exports/{request_id}/groups/{group}", dependencies=[CsrfDep])
def group_from_form(
    request: Request,
    portal: PortalDep,
    user: EditorDep,
    request_id: RowId,
    group: Word,
    context: Annotated[str, Form()] = "",
    controls: Annotated[str, Form()] = "",
) -> RedirectResponse:
    exports.set_group(
        portal,
        actor=user.name,
        request_id=request_id,
        group=group,
        context=context,
        controls=controls,
    )
    return _back(request, request_id)


@router.post("/exports/{request_id}/files", dependencies=[CsrfDep])
def add_files_from_form(
    request: Request,
    portal: PortalDep,
    user: EditorDep,
    request_id: RowId,
    files: Annotated[str, Form()],
    group: Annotated[str, Form()] = "default",
) -> RedirectResponse:
    """Add more files of the outbox (names separated by commas or new lines)."""
    names = [n.strip() for n in files.replace("，", ",").replace("\n", ",").split(",") if n.strip()]
    exports.add_files(
        portal,
        actor=user.name,
        request_id=request_id,
        files=names,
        group=group.strip() or "default",
    )
    return _back(request, request_id)


@router.post("/exports/{request_id}/files/{file_id}/{action}", dependencies=[CsrfDep])
def file_action_from_form(
    request: Request,
    portal: PortalDep,
    user: ReaderDep,
    request_id: RowId,
    file_id: RowId,
    action: Word,
    response: Annotated[str, Form()] = "",
) -> RedirectResponse:
    _file_action(portal, user, request_id, file_id, action, response)
    return _back(request, request_id)


@router.post("/exports/{request_id}/{action}", dependencies=[CsrfDep])
def action_from_form(
    request: Request,
    portal: PortalDep,
    user: ReaderDep,
    request_id: RowId,
    action: Word,
    comment: Annotated[str, Form()] = "",
) -> RedirectResponse:
    _act(portal, user, request_id, action, comment)
    if action == "release":
        return RedirectResponse(
            f"{request.app.state.prefix}/exports/{request_id}/release", status_code=303
        )
    return _back(request, request_id)


@router.get("/destruction/{grant_id}", response_class=HTMLResponse)
def destruction_page(
    request: Request, portal: PortalDep, user: GrantReaderDep, grant_id: GrantId
) -> HTMLResponse:
    with portal.sessions() as session:
        record = destruction.destruction_of(portal, session, actor=user.name, grant_id=grant_id)
        view = _destruction_view(record)
        from open_portal.models import Grant

        grant = session.get(Grant, grant_id)
        assert grant is not None
        status = grant.status.value
        waiting = [r.id for r in exports.under_review(session, grant_id)]
    evidence = None
    if record is not None and record.certificate_index is not None:
        evidence = destruction.certificate(portal, actor=user.name, grant_id=grant_id)
    return render(
        request,
        "destruction.html",
        grant_id=grant_id,
        grant_status=status,
        record=view,
        waiting=waiting,
        certificate=evidence["entry"]["details"] if evidence else None,
        evidence=json.dumps(evidence, ensure_ascii=False, indent=2) if evidence else "",
    )


@router.post("/destruction/{grant_id}", dependencies=[CsrfDep])
def destroy_from_form(
    request: Request,
    portal: PortalDep,
    user: DestroyerDep,
    grant_id: GrantId,
    reason: Annotated[str, Form()] = "",
) -> RedirectResponse:
    destruction.request_or_confirm(portal, actor=user.name, grant_id=grant_id, reason=reason)
    return RedirectResponse(f"{request.app.state.prefix}/destruction/{grant_id}", status_code=303)


# ---- JSON API ------------------------------------------------------------------------------


@router.post("/api/workspace/grants/{grant_id}/exports", status_code=201)
def workspace_export(
    request: Request, portal: PortalDep, user: CreatorDep, grant_id: GrantId, body: WorkspaceExport
) -> dict[str, Any]:
    """The workspace client's export request; the portal copies the files itself.

    With ``submit``, a request that lacks nothing is submitted at once; otherwise the answer
    lists what is ``missing`` and the ``url`` of its page, where the requester finishes it.
    """
    created = exports.request_export(
        portal,
        actor=user.name,
        grant_id=grant_id,
        files=body.files,
        justification=body.justification,
        controls=body.controls,
        written_in_workspace=True,
    )
    with portal.sessions() as session:
        item = exports.get_request(portal, session, actor=user.name, request_id=created.id)
        lacking = readiness.missing(item)
    if body.submit and not lacking:
        exports.submit(portal, actor=user.name, request_id=created.id)
    with portal.sessions() as session:
        item = exports.get_request(portal, session, actor=user.name, request_id=created.id)
        view = request_view(portal, session, item, user.name)
    return {
        **view,
        "missing": [m.as_dict() for m in lacking],
        "url": f"{portal.settings.public_origin}{request.app.state.prefix}/exports/{created.id}",
    }


@router.get("/api/exports")
def api_list(portal: PortalDep, user: ReaderDep) -> list[dict[str, Any]]:
    with portal.sessions() as session:
        return [
            request_view(portal, session, r, user.name)
            for r in exports.list_requests(portal, session, actor=user.name)
        ]


@router.get("/api/exports/{request_id}")
def api_show(portal: PortalDep, user: ReaderDep, request_id: RowId) -> dict[str, Any]:
    with portal.sessions() as session:
        item = exports.get_request(portal, session, actor=user.name, request_id=request_id)
        return request_view(portal, session, item, user.name)


@router.get("/api/exports/{request_id}/release")
def api_release(portal: PortalDep, user: ReaderDep, request_id: RowId) -> dict[str, Any]:
    """The signed release manifest with its inclusion proof and checkpoint."""
    return exports.release_evidence(portal, actor=user.name, request_id=request_id)


class MoreFiles(BaseModel):
    files: list[str] = Field(min_length=1, max_length=exports.MAX_FILES)
    group: str = Field("default", min_length=1, max_length=64)


@router.post("/api/exports/{request_id}/files")
def api_add_files(
    portal: PortalDep, user: EditorDep, request_id: RowId, body: MoreFiles
) -> dict[str, Any]:
    """Add files of the outbox to a pending or returned request."""
    exports.add_files(
        portal, actor=user.name, request_id=request_id, files=body.files, group=body.group
    )
    return api_show(portal, user, request_id)


@router.post("/api/exports/{request_id}/files/{file_id}/{action}")
def api_file_action(
    portal: PortalDep,
    user: ReaderDep,
    request_id: RowId,
    file_id: RowId,
    action: Word,
    body: dict[str, str] | None = None,
) -> dict[str, Any]:
    _file_action(portal, user, request_id, file_id, action, (body or {}).get("response", ""))
    return api_show(portal, user, request_id)


@router.post("/api/exports/{request_id}/{action}")
def api_act(
    portal: PortalDep,
    user: ReaderDep,
    request_id: RowId,
    action: Word,
    body: dict[str, str] | None = None,
) -> dict[str, Any]:
    values = body or {}
    if action == "comment":
        exports.comment(
            portal,
            actor=user.name,
            request_id=request_id,
            text=values.get("text", ""),
            visibility=_visibility(values.get("visibility", "public")),
        )
    else:
        _act(portal, user, request_id, action, values.get("comment", ""))
    return api_show(portal, user, request_id)


@router.get("/api/destruction/{grant_id}/certificate")
def api_certificate(portal: PortalDep, user: GrantReaderDep, grant_id: GrantId) -> dict[str, Any]:
    """The destruction certificate: its audit entry, inclusion proof and signed checkpoint."""
    return destruction.certificate(portal, actor=user.name, grant_id=grant_id)


@router.post("/api/destruction/{grant_id}")
def api_destroy(
    portal: PortalDep, user: DestroyerDep, grant_id: GrantId, body: dict[str, str] | None = None
) -> dict[str, Any]:
    """Start a destruction, or (another officer) confirm and run it; returns the certificate."""
    return destruction.request_or_confirm(
        portal, actor=user.name, grant_id=grant_id, reason=(body or {}).get("reason", "")
    )


# ---- helpers -------------------------------------------------------------------------------


def _act(portal: Portal, user: Identity, request_id: int, action: str, comment: str) -> None:
    if action not in REQUEST_ACTIONS:
        raise NotFound(f"unknown action {action!r}", zh=f"未知操作 {action}")
    if action == "submit":
        exports.submit(portal, actor=user.name, request_id=request_id)
    elif action == "withdraw":
        exports.withdraw(portal, actor=user.name, request_id=request_id)
    elif action == "complete_review":
        exports.complete_review(portal, actor=user.name, request_id=request_id)
    elif action == "release":
        exports.release(portal, actor=user.name, request_id=request_id)
    else:
        exports.decide(
            portal, actor=user.name, request_id=request_id, decision=action, comment=comment
        )


def _file_action(
    portal: Portal, user: Identity, request_id: int, file_id: int, action: str, response: str
) -> None:
    if action not in FILE_ACTIONS:
        raise NotFound(f"unknown action {action!r}", zh=f"未知操作 {action}")
    if action in ("approve", "changes"):
        exports.vote(
            portal,
            actor=user.name,
            request_id=request_id,
            file_id=file_id,
            decision=Vote(action),
        )
    elif action == "answer":
        exports.answer_checks(
            portal, actor=user.name, request_id=request_id, file_id=file_id, response=response
        )
    elif action == "update":
        exports.update_file(portal, actor=user.name, request_id=request_id, file_id=file_id)
    else:
        exports.withdraw_file(portal, actor=user.name, request_id=request_id, file_id=file_id)


def _visibility(value: str) -> Visibility:
    try:
        return Visibility(value)
    except ValueError:
        raise InvalidInput("visibility is public or private", zh="可见范围须为公开或内部") from None


def _back(request: Request, request_id: int) -> RedirectResponse:
    return RedirectResponse(f"{request.app.state.prefix}/exports/{request_id}", status_code=303)


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
