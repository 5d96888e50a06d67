"""The life of an export request: every change checks the policy and makes its move through
``service.transitions`` (which records the move's audit event), in one call.

Requesters create a request from files of the outbox (each copied, checked and sealed when taken:
what they change afterwards does not change what is reviewed), justify its file groups, answer the
failing checks, submit or withdraw; officers who may review it vote on each file version, complete
their review, decide and release.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from open_portal import permissions
from open_portal.exceptions import Forbidden, InvalidInput, InvalidTransition, NotFound
from open_portal.models import (
    ExportComment,
    ExportFile,
    ExportRequest,
    ExportReview,
    ExportStatus,
    ExportVote,
    Grant,
    Visibility,
    Vote,
)
from open_portal.service.auditing import record
from open_portal.service.context import Portal
from open_portal.service.exports import holding, intake, readiness
from open_portal.service.exports.fields import bounded, group_name
from open_portal.service.exports.outbox import clean_name
from open_portal.service.exports.records import (
    active_files,
    approvals,
    completed,
    current_vote,
    file_entry,
    file_of,
    get_export,
    get_grant,
)
from open_portal.service.exports.states import (
    DECISIONS,
    EDITABLE,
    MAX_FILES,
    VOTING,
    E,
)
from open_portal.service.notifications import notify
from open_portal.service.transitions import insert_new, move_of, transition


def request_export(
    portal: Portal,
    *,
    actor: str,
    grant_id: str,
    files: Sequence[str],
    justification: str = "",
    controls: str = "",
    group: str = "default",
    written_in_workspace: bool = False,
) -> ExportRequest:
    """A member asks for files of the grant's outbox to be exported: a pending request.

    Text written in the workspace (``written_in_workspace``) is held like the files: only the
    request's reviewers read it until it is released (see ``shown_group``).
    """
    names = _names(files)
    group = group_name(group)
    justification = bounded(justification, "justification")
    controls = bounded(controls, "controls")
    with portal.sessions.begin() as session:
        grant = get_grant(session, grant_id)
        permissions.check_can_request_export(portal.policy, session, actor, grant, portal.clock())
        request = ExportRequest(
            grant_id=grant.id,
            author=actor,
            groups={
                group: {
                    "context": justification,
                    "controls": controls,
                    "written_in_workspace": written_in_workspace,
                }
            },
            reviewers_required=int((grant.export_rules or {}).get("reviewers_required", 1)),
            created_at=portal.clock(),
        )
        insert_new(session, request)
        pseudonyms = intake.release_pseudonyms(portal, grant)
        try:
            for name in names:
                file = ExportFile(request_id=request.id, name=name, group=group, sha256="")
                request.files.append(file)
                session.flush()
                intake.take(portal, grant, file, pseudonyms)
        except BaseException:
            holding.drop_request(portal, grant.id, request.id)
            raise
        transition(
            portal,
            request,
            "create",
            actor=actor,
            files=[file_entry(f) for f in request.files],
        )
    return request


def add_files(
    portal: Portal, *, actor: str, request_id: int, files: Sequence[str], group: str = "default"
) -> ExportRequest:
    """Add files of the outbox to a pending or returned request."""
    names = _names(files)
    group = group_name(group)
    with portal.sessions.begin() as session:
        request, grant = _editable(portal, session, request_id, actor)
        taken = {f.name for f in request.files}
        if taken & set(names):
            raise InvalidInput(
                f"{sorted(taken & set(names))[0]} is already in the request: update it instead",
                zh="该文件已在申请中，请使用「更新」",
            )
        if len(taken) + len(names) > MAX_FILES:
            raise InvalidInput(f"at most {MAX_FILES} files", zh=f"最多 {MAX_FILES} 个文件")
        request.groups = {
            **request.groups,
            group: request.groups.get(group, {"context": "", "controls": ""}),
        }
        pseudonyms = intake.release_pseudonyms(portal, grant)
        for name in names:
            file = ExportFile(request_id=request.id, name=name, group=group, sha256="")
            request.files.append(file)
            session.flush()
            intake.take(portal, grant, file, pseudonyms)
            record(
                portal,
                "export.file_added",
                actor=actor,
                subject=f"grant:{grant.id}",
                object=f"export:{request.id}",
                file=file_entry(file),
            )
    return request


def update_file(portal: Portal, *, actor: str, request_id: int, file_id: int) -> ExportFile:
    """Take a new copy of a file from the outbox: a new version, whose votes start afresh."""
    with portal.sessions.begin() as session:
        request, grant = _editable(portal, session, request_id, actor)
        file = file_of(request, file_id)
        old = holding.path_of(portal, grant.id, file)
        file.version += 1
        file.response = ""
        file.withdrawn = False
        intake.take(portal, grant, file, intake.release_pseudonyms(portal, grant))
        old.unlink(missing_ok=True)
        record(
            portal,
            "export.file_updated",
            actor=actor,
            subject=f"grant:{grant.id}",
            object=f"export:{request.id}",
            file=file_entry(file),
        )
    return file


def withdraw_file(portal: Portal, *, actor: str, request_id: int, file_id: int) -> ExportFile:
    """Take a file out of a pending or returned request."""
    with portal.sessions.begin() as session:
        request, grant = _editable(portal, session, request_id, actor)
        file = file_of(request, file_id)
        file.withdrawn = True
        holding.remove(portal, grant.id, file)
        record(
            portal,
            "export.file_withdrawn",
            actor=actor,
            subject=f"grant:{grant.id}",
            object=f"export:{request.id}",
            file=file.name,
        )
    return file


HELD_TEXT = "（在工作空间中填写，仅审核员可见 / written in the workspace: shown to reviewers only）"


def shown_group(group: dict[str, Any], *, reviewer: bool, released: bool) -> dict[str, Any]:
    """A file group's text as a viewer may read it: text written inside the workspace is data
    that has not been reviewed, so only the request's reviewers read it before release."""
    if group.get("written_in_workspace") and not (reviewer or released):
        return {**group, "context": HELD_TEXT, "controls": HELD_TEXT}
    return dict(group)


def set_group(
    portal: Portal, *, actor: str, request_id: int, group: str, context: str, controls: str
) -> ExportRequest:
    """The justification of a file group: its context and the disclosure controls applied."""
    context = bounded(context, "justification")
    controls = bounded(controls, "controls")
    with portal.sessions.begin() as session:
        request, grant = _editable(portal, session, request_id, actor)
        if group not in request.groups:
            raise NotFound(f"no file group {group!r}", zh=f"没有文件组 {group}")
        request.groups = {
            **request.groups,
            group: {"context": context, "controls": controls},
        }
        record(
            portal,
            "export.justified",
            actor=actor,
            subject=f"grant:{grant.id}",
            object=f"export:{request.id}",
            group=group,
        )
    return request


def answer_checks(
    portal: Portal, *, actor: str, request_id: int, file_id: int, response: str
) -> ExportFile:
    """The requester's answer to a file's failing checks (needed before submitting)."""
    with portal.sessions.begin() as session:
        request, grant = _editable(portal, session, request_id, actor)
        file = file_of(request, file_id)
        file.response = bounded(response, "response")
        record(
            portal,
            "export.checks_answered",
            actor=actor,
            subject=f"grant:{grant.id}",
            object=f"export:{request.id}",
            file=file.name,
            version=file.version,
        )
    return file


def submit(portal: Portal, *, actor: str, request_id: int) -> ExportRequest:
    """Send for review: every group justified, every failing check answered."""
    with portal.sessions.begin() as session:
        request = get_export(session, request_id, lock=True)
        permissions.check_can_edit_export(portal.policy, session, actor, request, portal.clock())
        move_of(request, "submit")
        files = active_files(request)
        lacking = readiness.missing(request)
        if lacking:
            raise InvalidInput(
                "before submitting: " + "; ".join(m.en for m in lacking),
                zh="提交前请完成：" + "；".join(m.zh for m in lacking),
            )
        request.submitted_at = portal.clock()
        transition(
            portal,
            request,
            "submit",
            actor=actor,
            round=request.round,
            files=[file_entry(f) for f in files],
        )
        grant = get_grant(session, request.grant_id)
        notify(
            session,
            permissions.officers_to_review_export(portal.policy, session, request, portal.clock()),
            zh=f"导出申请 #{request.id}（授权 {grant.id}）等待您审核",
            en=f"Export request #{request.id} (grant {grant.id}) is waiting for your review",
            link=f"exports/{request.id}",
        )
    return request


def withdraw(portal: Portal, *, actor: str, request_id: int) -> ExportRequest:
    with portal.sessions.begin() as session:
        request = get_export(session, request_id, lock=True)
        permissions.check_can_edit_export(portal.policy, session, actor, request, portal.clock())
        transition(portal, request, "withdraw", actor=actor)
        holding.discard(portal, request)
    return request


# ---- officers ------------------------------------------------------------------------------


def _check_reviewer(portal: Portal, session: Session, request: ExportRequest, actor: str) -> None:
    if not permissions.can_review_export(portal.policy, session, actor, request, portal.clock()):
        raise Forbidden(
            "only a security officer who neither wrote this request nor belongs to its grant "
            "may review it",
            zh="只有既非申请人、也非该授权成员的安全审核员可以审核此导出申请",
        )


def vote(
    portal: Portal, *, actor: str, request_id: int, file_id: int, decision: Vote
) -> ExportVote:
    """An officer's vote on the current version of one file."""
    with portal.sessions.begin() as session:
        request = get_export(session, request_id, lock=True)
        _check_reviewer(portal, session, request, actor)
        if request.status not in VOTING:
            raise InvalidTransition(
                f"votes are cast while a request is under review, not {request.status.value}",
                zh="只能在审核中投票",
            )
        if completed(request, actor):
            raise InvalidTransition(
                "you have already completed your review of this round",
                zh="您已完成本轮审核，不能再修改投票",
            )
        file = file_of(request, file_id)
        if file.withdrawn:
            raise InvalidInput(f"{file.name} was withdrawn", zh=f"{file.name} 已撤回")
        cast = next(
            (v for v in file.votes if v.reviewer == actor and v.file_version == file.version), None
        )
        if cast is None:
            cast = ExportVote(
                file_id=file.id, reviewer=actor, file_version=file.version, vote=decision
            )
            file.votes.append(cast)
        cast.vote = decision
        cast.created_at = portal.clock()
        record(
            portal,
            f"export.vote.{decision.value}",
            actor=actor,
            subject=f"grant:{request.grant_id}",
            object=f"export:{request.id}",
            file=file.name,
            version=file.version,
            sha256=file.sha256,
        )
    return cast


def complete_review(portal: Portal, *, actor: str, request_id: int) -> ExportRequest:
    """An officer has voted on every file: their review of this round is complete."""
    with portal.sessions.begin() as session:
        request = get_export(session, request_id, lock=True)
        _check_reviewer(portal, session, request, actor)
        move_of(request, "last_review")
        if completed(request, actor):
            raise InvalidTransition(
                "you have already completed your review of this round", zh="您已完成本轮审核"
            )
        missing = [f.name for f in active_files(request) if current_vote(f, actor) is None]
        if missing:
            raise InvalidInput(
                f"vote on every file first ({missing[0]} has no vote of yours)",
                zh=f"请先对每个文件投票（{missing[0]} 尚未投票）",
            )
        request.reviews.append(
            ExportReview(
                request_id=request.id,
                reviewer=actor,
                round=request.round,
                created_at=portal.clock(),
            )
        )
        session.flush()
        # counted in the database, after this review is written: a concurrent review by another
        # officer is either already committed or waits for this transaction
        done = len(
            set(
                session.scalars(
                    select(ExportReview.reviewer).where(
                        ExportReview.request_id == request.id, ExportReview.round == request.round
                    )
                )
            )
        )
        action = "last_review" if done >= request.reviewers_required else "first_review"
        transition(
            portal,
            request,
            action,
            actor=actor,
            round=request.round,
            reviews=done,
            required=request.reviewers_required,
            status=move_of(request, action).to.value,
        )
    return request


def decide(
    portal: Portal, *, actor: str, request_id: int, decision: str, comment: str = ""
) -> ExportRequest:
    """approve (every file approved by enough independent officers), reject, or return."""
    if decision not in DECISIONS:
        raise NotFound(f"unknown decision {decision!r}", zh=f"未知决定 {decision}")
    comment = bounded(comment, "comment")
    with portal.sessions.begin() as session:
        request = get_export(session, request_id, lock=True)
        if not permissions.can_decide_export(
            portal.policy, session, actor, request, portal.clock()
        ):
            raise Forbidden(
                "only a security officer who neither wrote this request nor belongs to its grant "
                "may decide on it",
                zh="只有既非申请人、也非该授权成员的安全审核员可以作出决定",
            )
        target = ExportStatus(move_of(request, decision).to)
        if decision != "approve" and not comment.strip():
            raise InvalidInput("say why in a comment", zh="退回或拒绝时请填写意见")
        if decision == "approve":
            not_approved = [
                f.name
                for f in active_files(request)
                if len(approvals(f)) < request.reviewers_required
            ]
            if not_approved:
                raise InvalidTransition(
                    f"{not_approved[0]} is not approved by {request.reviewers_required} "
                    "independent officers",
                    zh=f"{not_approved[0]} 未获得 {request.reviewers_required} 名独立审核员的批准",
                )
        request.decided_at = portal.clock()
        request.decided_by = actor
        if comment.strip():
            request.comments.append(
                ExportComment(
                    request_id=request.id,
                    author=actor,
                    visibility=Visibility.PUBLIC,
                    round=request.round,
                    text=comment.strip(),
                    created_at=portal.clock(),
                )
            )
        transition(portal, request, decision, actor=actor, comment=comment.strip())
        if target == E.RETURNED:
            request.round += 1
        if target == E.REJECTED:
            holding.discard(portal, request)
        grant = get_grant(session, request.grant_id)
        notify(
            session,
            set(grant.member_names),
            zh=f"导出申请 #{request.id} {_ZH_STATUS[target]}",
            en=f"Export request #{request.id} was {target.value}",
            link=f"exports/{request.id}",
        )
    return request


_ZH_STATUS = {
    E.APPROVED: "已批准",
    E.REJECTED: "被拒绝",
    E.RETURNED: "被退回修改",
    E.RELEASED: "已放行",
}


def release(portal: Portal, *, actor: str, request_id: int) -> ExportRequest:
    """Release the approved files: a manifest signed into the audit log; members may download."""
    with portal.sessions.begin() as session:
        request = get_export(session, request_id, lock=True)
        if not permissions.can_decide_export(
            portal.policy, session, actor, request, portal.clock()
        ):
            raise Forbidden(
                "only an independent security officer may release files",
                zh="只有独立的安全审核员可以放行文件",
            )
        move_of(request, "release")
        now = portal.clock()
        request.released_at = now
        files = active_files(request)
        manifest = {
            "request": request.id,
            "grant": request.grant_id,
            "author": request.author,
            "released_by": actor,
            "released_at": now.isoformat(),
            "reviewers": sorted({r.reviewer for r in request.reviews}),
            "decided_by": request.decided_by,
            "files": [
                {
                    **file_entry(f),
                    "approved_by": sorted(approvals(f)),
                    "checks": {c["check"]: bool(c["passed"]) for c in f.checks},
                    "response": f.response,
                }
                for f in files
            ],
        }
        request.manifest = manifest
        transition(
            portal,
            request,
            "release",
            actor=actor,
            index_into=(request, "manifest_index"),
            manifest=manifest,
        )
        grant = get_grant(session, request.grant_id)
        notify(
            session,
            set(grant.member_names),
            zh=f"导出申请 #{request.id} 的文件已放行，可以下载",
            en=f"The files of export request #{request.id} are released: you can download them",
            link=f"exports/{request.id}",
        )
    return request


def comment(
    portal: Portal,
    *,
    actor: str,
    request_id: int,
    text: str,
    visibility: Visibility = Visibility.PUBLIC,
    file_id: int | None = None,
) -> ExportComment:
    """A comment: officers may keep theirs private to officers; requesters' are public."""
    text = bounded(text, "comment")
    if not text:
        raise InvalidInput("a comment cannot be empty", zh="意见不能为空")
    with portal.sessions.begin() as session:
        request = get_export(session, request_id, lock=True)
        now = portal.clock()
        reviewer = permissions.can_review_export(portal.policy, session, actor, request, now)
        if not reviewer and not permissions.can_edit_export(
            portal.policy, session, actor, request, now
        ):
            raise Forbidden("you cannot comment on this request", zh="您不能对此导出申请发表意见")
        if visibility == Visibility.PRIVATE and not reviewer:
            raise Forbidden("only officers write private comments", zh="只有审核员可以发表内部意见")
        if request.status in (E.RELEASED, E.REJECTED, E.WITHDRAWN):
            raise InvalidTransition("the request is closed", zh="导出申请已结束")
        if file_id is not None:
            file_of(request, file_id)
        note = ExportComment(
            request_id=request.id,
            file_id=file_id,
            author=actor,
            visibility=visibility,
            round=request.round,
            text=text.strip(),
            created_at=portal.clock(),
        )
        request.comments.append(note)
        record(
            portal,
            "export.commented",
            actor=actor,
            subject=f"grant:{request.grant_id}",
            object=f"export:{request.id}",
            visibility=visibility.value,
            file=file_id,
        )
    return note


def close_for_destruction(portal: Portal, session: Session, grant_id: str, actor: str) -> list[int]:
    """Close the grant's pending and returned requests (called by the destruction)."""
    closed = []
    for request in session.scalars(
        select(ExportRequest).where(
            ExportRequest.grant_id == grant_id, ExportRequest.status.in_(sorted(EDITABLE))
        )
    ):
        transition(portal, request, "close", actor=actor, reason="grant destroyed")
        closed.append(request.id)
    return closed


def _names(files: Sequence[str]) -> list[str]:
    if not files:
        raise InvalidInput(
            "name at least one file of the outbox", zh="请至少指定发件箱中的一个文件"
        )
    if len(files) > MAX_FILES:
        raise InvalidInput(f"at most {MAX_FILES} files", zh=f"最多 {MAX_FILES} 个文件")
    names = [clean_name(n) for n in files]
    if len(set(names)) != len(names):
        raise InvalidInput("a file is named twice", zh="文件重复")
    return names


def _editable(
    portal: Portal, session: Session, request_id: int, actor: str
) -> tuple[ExportRequest, Grant]:
    request = get_export(session, request_id, lock=True)
    permissions.check_can_edit_export(portal.policy, session, actor, request, portal.clock())
    if request.status not in EDITABLE:
        raise InvalidTransition(
            f"an export request that is {request.status.value} cannot be changed",
            zh="只有待提交或被退回的导出申请可以修改",
        )
    return request, get_grant(session, request.grant_id)
