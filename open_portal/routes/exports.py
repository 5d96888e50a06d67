"""Export requests and grant destruction: the officers' queue, the request page with its files,
checks, votes and comments, the release page, the destruction page; the JSON API and the
workspace's export endpoint.

One endpoint per action, for forms (``/exports/{id}/<action>``, answered by a redirect to the
request) and for the API (``/api/exports/{id}/<action>``, answered by the request), and likewise
per file (``…/files/{file_id}/<action>``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from open_portal.auth import Identity
from open_portal.models import Visibility, Vote
from open_portal.params import GrantId, RowId, Word
from open_portal.schemas import TEXT_MAX, CommentInput, ReasonInput, Text
from open_portal.service import destruction, exports
from open_portal.service.context import Portal
from open_portal.service.exports import readiness
from open_portal.views import exports as views
from open_portal.views.exports import ExportRequestOut, WorkspaceExportOut
from open_portal.web import CsrfDep, Guard, PortalDep

router = APIRouter()
# Who may read, change, review or download a request depends on the request and its grant: the
# service layer decides on the loaded resource.
ReaderDep = Annotated[Identity, Depends(Guard())]
EditorDep = Annotated[Identity, Depends(Guard())]
ReviewerDep = Annotated[Identity, Depends(Guard())]
CreatorDep = Annotated[Identity, Depends(Guard())]
DownloadDep = Annotated[Identity, Depends(Guard())]
GrantReaderDep = Annotated[Identity, Depends(Guard())]
DestroyerDep = Annotated[Identity, Depends(Guard())]

CommentField = Annotated[str, Form(max_length=TEXT_MAX)]


class WorkspaceExport(BaseModel):
    """What the client inside a workspace sends: names of files in its outbox, why, and whether
    to submit the request at once (when nothing is missing)."""

    files: list[str] = Field(min_length=1, max_length=exports.MAX_FILES)
    justification: str = Field("", max_length=4000)
    controls: str = Field("", max_length=4000)
    submit: bool = False


class MoreFiles(BaseModel):
    files: list[str] = Field(min_length=1, max_length=exports.MAX_FILES)
    group: str = Field("default", min_length=1, max_length=64)


class NewComment(BaseModel):
    text: Text
    visibility: Visibility = Visibility.PUBLIC
    file_id: int | None = Field(None, ge=1, le=2**31 - 1)


class Answer(BaseModel):
    """The requester's answer to a file's failing checks."""

    response: Text = ""


def _back(request: Request, request_id: int) -> RedirectResponse:
    return RedirectResponse(f"{request.app.state.prefix}/exports/{request_id}", status_code=303)


# ---- pages ---------------------------------------------------------------------------------


@router.get("/exports", response_class=HTMLResponse)
def exports_page(request: Request, portal: PortalDep, user: ReaderDep) -> HTMLResponse:
    return views.list_page(request, portal, actor=user.name)


@router.get("/exports/{request_id}", response_class=HTMLResponse)
def export_page(
    request: Request, portal: PortalDep, user: ReaderDep, request_id: RowId
) -> HTMLResponse:
    return views.request_page(request, portal, actor=user.name, request_id=request_id)


@router.get("/exports/{request_id}/files/{file_id}")
def file_content(portal: PortalDep, user: ReaderDep, request_id: RowId, file_id: RowId) -> Response:
    """The held copy, shown inline in a sandbox, to the officers reviewing the request only."""
    return views.held_file(portal, actor=user.name, request_id=request_id, file_id=file_id)


@router.get("/exports/{request_id}/files/{file_id}/download")
def download(portal: PortalDep, user: DownloadDep, request_id: RowId, file_id: RowId) -> Response:
    """A released file, for the grant's members."""
    return views.released_file(portal, actor=user.name, request_id=request_id, file_id=file_id)


@router.get("/exports/{request_id}/release", response_class=HTMLResponse)
def release_page(
    request: Request, portal: PortalDep, user: ReaderDep, request_id: RowId
) -> HTMLResponse:
    return views.release_page(request, portal, actor=user.name, request_id=request_id)


@router.post("/exports/{request_id}/comments", dependencies=[CsrfDep])
def comment_from_form(
    request: Request,
    portal: PortalDep,
    user: ReaderDep,
    request_id: RowId,
    text: Annotated[str, Form()],
    visibility: Annotated[Visibility, Form()] = Visibility.PUBLIC,
    file_id: Annotated[str, Form()] = "",
) -> RedirectResponse:
    exports.comment(
        portal,
        actor=user.name,
        request_id=request_id,
        text=text,
        visibility=visibility,
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


@router.get("/destruction/{grant_id}", response_class=HTMLResponse)
def destruction_page(
    request: Request, portal: PortalDep, user: GrantReaderDep, grant_id: GrantId
) -> HTMLResponse:
    return views.destruction_page(request, portal, actor=user.name, grant_id=grant_id)


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


# ---- one endpoint per action on a request: a form's and the API's ----------------------------

RequestAction = Callable[[Portal, str, int, str], object]  # (portal, actor, request, comment)


def _request_endpoints(action: str, run: RequestAction, *, then: str = "") -> None:
    """Register ``POST /exports/{id}/<action>`` (a form; redirects to the request page, or to
    its ``then`` page) and ``POST /api/exports/{id}/<action>`` (returns the request)."""

    def from_form(
        request: Request,
        portal: PortalDep,
        user: ReaderDep,
        request_id: RowId,
        comment: CommentField = "",
    ) -> RedirectResponse:
        run(portal, user.name, request_id, comment)
        page = f"{request.app.state.prefix}/exports/{request_id}"
        return RedirectResponse(f"{page}/{then}" if then else page, status_code=303)

    def from_api(
        portal: PortalDep, user: ReaderDep, request_id: RowId, body: CommentInput | None = None
    ) -> ExportRequestOut:
        run(portal, user.name, request_id, body.comment if body else "")
        return views.shown(portal, actor=user.name, request_id=request_id)

    router.add_api_route(
        f"/exports/{{request_id}}/{action}",
        from_form,
        methods=["POST"],
        dependencies=[CsrfDep],
        name=f"{action}_export_from_form",
        response_class=RedirectResponse,
    )
    router.add_api_route(
        f"/api/exports/{{request_id}}/{action}",
        from_api,
        methods=["POST"],
        name=f"{action}_export",
        response_model=ExportRequestOut,
    )


def _submit(portal: Portal, actor: str, request_id: int, comment: str) -> object:
    return exports.submit(portal, actor=actor, request_id=request_id)


def _withdraw(portal: Portal, actor: str, request_id: int, comment: str) -> object:
    return exports.withdraw(portal, actor=actor, request_id=request_id)


def _complete_review(portal: Portal, actor: str, request_id: int, comment: str) -> object:
    return exports.complete_review(portal, actor=actor, request_id=request_id)


def _release(portal: Portal, actor: str, request_id: int, comment: str) -> object:
    return exports.release(portal, actor=actor, request_id=request_id)


def _decision(decision: str) -> RequestAction:
    def decide(portal: Portal, actor: str, request_id: int, comment: str) -> object:
        return exports.decide(
            portal, actor=actor, request_id=request_id, decision=decision, comment=comment
        )

    return decide


_request_endpoints("submit", _submit)
_request_endpoints("withdraw", _withdraw)
_request_endpoints("complete_review", _complete_review)
_request_endpoints("release", _release, then="release")
for _decided in exports.DECISIONS:
    _request_endpoints(_decided, _decision(_decided))


# ---- one endpoint per action on a file ---------------------------------------------------------

FileAction = Callable[[Portal, str, int, int, str], object]  # (…, request, file, response)


def _file_endpoints(action: str, run: FileAction) -> None:
    """Register ``POST /exports/{id}/files/{file_id}/<action>`` (a form) and its API twin."""

    def from_form(
        request: Request,
        portal: PortalDep,
        user: ReaderDep,
        request_id: RowId,
        file_id: RowId,
        response: CommentField = "",
    ) -> RedirectResponse:
        run(portal, user.name, request_id, file_id, response)
        return _back(request, request_id)

    def from_api(
        portal: PortalDep,
        user: ReaderDep,
        request_id: RowId,
        file_id: RowId,
        body: Answer | None = None,
    ) -> ExportRequestOut:
        run(portal, user.name, request_id, file_id, body.response if body else "")
        return views.shown(portal, actor=user.name, request_id=request_id)

    router.add_api_route(
        f"/exports/{{request_id}}/files/{{file_id}}/{action}",
        from_form,
        methods=["POST"],
        dependencies=[CsrfDep],
        name=f"{action}_export_file_from_form",
        response_class=RedirectResponse,
    )
    router.add_api_route(
        f"/api/exports/{{request_id}}/files/{{file_id}}/{action}",
        from_api,
        methods=["POST"],
        name=f"{action}_export_file",
        response_model=ExportRequestOut,
    )


def _vote(vote: Vote) -> FileAction:
    def cast(portal: Portal, actor: str, request_id: int, file_id: int, response: str) -> object:
        return exports.vote(
            portal, actor=actor, request_id=request_id, file_id=file_id, decision=vote
        )

    return cast


def _answer(portal: Portal, actor: str, request_id: int, file_id: int, response: str) -> object:
    return exports.answer_checks(
        portal, actor=actor, request_id=request_id, file_id=file_id, response=response
    )


def _update(portal: Portal, actor: str, request_id: int, file_id: int, response: str) -> object:
    return exports.update_file(portal, actor=actor, request_id=request_id, file_id=file_id)


def _withdraw_file(
    portal: Portal, actor: str, request_id: int, file_id: int, response: str
) -> object:
    return exports.withdraw_file(portal, actor=actor, request_id=request_id, file_id=file_id)


_file_endpoints("approve", _vote(Vote.APPROVE))
_file_endpoints("changes", _vote(Vote.CHANGES))
_file_endpoints("answer", _answer)
_file_endpoints("update", _update)
_file_endpoints("withdraw", _withdraw_file)


# ---- JSON API ------------------------------------------------------------------------------


@router.post(
    "/api/workspace/grants/{grant_id}/exports", status_code=201, response_model=WorkspaceExportOut
)
def workspace_export(
    request: Request, portal: PortalDep, user: CreatorDep, grant_id: GrantId, body: WorkspaceExport
) -> WorkspaceExportOut:
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
    return views.made_in_workspace(
        request, portal, actor=user.name, request_id=created.id, lacking=lacking
    )


@router.get("/api/exports", response_model=list[ExportRequestOut])
def api_list(portal: PortalDep, user: ReaderDep) -> list[ExportRequestOut]:
    return views.listed(portal, actor=user.name)


@router.get("/api/exports/{request_id}", response_model=ExportRequestOut)
def api_show(portal: PortalDep, user: ReaderDep, request_id: RowId) -> ExportRequestOut:
    return views.shown(portal, actor=user.name, request_id=request_id)


@router.get("/api/exports/{request_id}/release")
def api_release(portal: PortalDep, user: ReaderDep, request_id: RowId) -> dict[str, Any]:
    """The signed release manifest with its inclusion proof and checkpoint."""
    return exports.release_evidence(portal, actor=user.name, request_id=request_id)


@router.post("/api/exports/{request_id}/files", response_model=ExportRequestOut)
def api_add_files(
    portal: PortalDep, user: EditorDep, request_id: RowId, body: MoreFiles
) -> ExportRequestOut:
    """Add files of the outbox to a pending or returned request."""
    exports.add_files(
        portal, actor=user.name, request_id=request_id, files=body.files, group=body.group
    )
    return views.shown(portal, actor=user.name, request_id=request_id)


@router.post("/api/exports/{request_id}/comment", response_model=ExportRequestOut)
def api_comment(
    portal: PortalDep, user: ReaderDep, request_id: RowId, body: NewComment
) -> ExportRequestOut:
    exports.comment(
        portal,
        actor=user.name,
        request_id=request_id,
        text=body.text,
        visibility=body.visibility,
        file_id=body.file_id,
    )
    return views.shown(portal, actor=user.name, request_id=request_id)


@router.get("/api/destruction/{grant_id}/certificate")
def api_certificate(portal: PortalDep, user: GrantReaderDep, grant_id: GrantId) -> dict[str, Any]:
    """The destruction certificate: its audit entry, inclusion proof and signed checkpoint."""
    return destruction.certificate(portal, actor=user.name, grant_id=grant_id)


@router.post("/api/destruction/{grant_id}")
def api_destroy(
    portal: PortalDep, user: DestroyerDep, grant_id: GrantId, body: ReasonInput | None = None
) -> dict[str, Any]:
    """Start a destruction, or (another officer) confirm and run it; returns the certificate."""
    return destruction.request_or_confirm(
        portal, actor=user.name, grant_id=grant_id, reason=body.reason if body else ""
    )
