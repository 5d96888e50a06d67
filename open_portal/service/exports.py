"""Export requests: files out of a workspace only through automatic checks and officer review.

The states and their names follow OpenSAFELY Airlock: a request is ``pending`` while its
requesters assemble it, ``submitted`` for review, ``partially_reviewed`` when the first of two
officers has finished (L3), ``reviewed`` when enough have, then ``approved``, ``rejected`` or
``returned`` (for changes), and ``released`` once an officer releases the approved files;
``withdrawn`` by its requesters. ``TRANSITIONS`` is the only table of valid changes; every
function here checks the policy, applies the change and records the audit event in one call.

The portal copies each named file itself from the grant's workspace outbox on the host (no
``..``, no symlinks, regular files only, within the size limit), hashes it and seals it in the
holding area under the grant's own key: what the requester changes afterwards does not change
what is reviewed, and once the grant's key is erased no copy left anywhere can be read.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select
from sqlalchemy.orm import Session

from open_portal.checks import Limits, run_checks
from open_portal.checks.pseudonyms import grant_pseudonyms
from open_portal.exceptions import Error, Forbidden, InvalidInput, InvalidTransition, NotFound
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
from open_portal.service.access import allowed, check, grant_resource
from open_portal.service.auditing import record
from open_portal.service.context import Portal
from open_portal.service.notifications import notify
from policies import Resource

E = ExportStatus

# (from state, action) -> to state. The only table of valid transitions.
TRANSITIONS: dict[tuple[ExportStatus, str], ExportStatus] = {
    (E.PENDING, "submit"): E.SUBMITTED,
    (E.PENDING, "withdraw"): E.WITHDRAWN,
    (E.RETURNED, "submit"): E.SUBMITTED,
    (E.RETURNED, "withdraw"): E.WITHDRAWN,
    (E.SUBMITTED, "first_review"): E.PARTIALLY_REVIEWED,
    (E.SUBMITTED, "last_review"): E.REVIEWED,
    (E.PARTIALLY_REVIEWED, "last_review"): E.REVIEWED,
    (E.SUBMITTED, "return"): E.RETURNED,
    (E.PARTIALLY_REVIEWED, "return"): E.RETURNED,
    (E.REVIEWED, "return"): E.RETURNED,
    (E.REVIEWED, "approve"): E.APPROVED,
    (E.REVIEWED, "reject"): E.REJECTED,
    (E.APPROVED, "release"): E.RELEASED,
    # the grant is being destroyed: what its requesters still hold is closed
    (E.PENDING, "close"): E.WITHDRAWN,
    (E.RETURNED, "close"): E.WITHDRAWN,
}
EDITABLE = {E.PENDING, E.RETURNED}
UNDER_REVIEW = {E.SUBMITTED, E.PARTIALLY_REVIEWED, E.REVIEWED}
VOTING = {E.SUBMITTED, E.PARTIALLY_REVIEWED}
DECISIONS = ("approve", "reject", "return")
# states in which the reviewers of a request may read its held copies
HELD_READABLE = {*UNDER_REVIEW, E.RETURNED, E.APPROVED, E.RELEASED}
MAX_FILES = 50
HOLDING = "exports"


def next_state(current: ExportStatus, action: str) -> ExportStatus:
    """The state after ``action``, or ``InvalidTransition``."""
    try:
        return TRANSITIONS[(current, action)]
    except KeyError:
        raise InvalidTransition(
            f"cannot {action} an export request that is {current.value}",
            zh=f"导出申请当前为「{current.value}」状态，不能执行「{action}」",
        ) from None


# ---- access ------------------------------------------------------------------------------


def export_resource(
    session: Session, grant: Grant, author: str, user: str, now: datetime
) -> list[Resource]:
    """The policy resource of an export request: the grant's attributes and who wrote it."""
    return [
        Resource("export", domain=r.domain, attrs={**r.attrs, "is_author": author == user})
        for r in grant_resource(session, grant, user, now)
    ]


def _resource(
    portal: Portal, session: Session, request: ExportRequest, user: str
) -> list[Resource]:
    return export_resource(
        session, _grant(session, request.grant_id), request.author, user, portal.clock()
    )


def can(portal: Portal, session: Session, request: ExportRequest, user: str, action: str) -> bool:
    """Whether ``user`` may do ``action`` (read, edit, review, decide, download) on the request."""
    return allowed(user, action, _resource(portal, session, request, user))


def may_see_held(portal: Portal, session: Session, request: ExportRequest, user: str) -> bool:
    """Whether ``user`` may read the held copies (bytes, previews, check details) of the request.

    Only an officer who may review this very request (neither its author nor a member of its
    grant), and only once it was submitted: a pending request is nobody's to look at. Requesters
    and members get bytes only from the release; ``admin`` never.
    """
    return request.status in HELD_READABLE and can(portal, session, request, user, "review")


# ---- the holding area --------------------------------------------------------------------


def holding_dir(portal: Portal, grant_id: str) -> Path:
    """Where copies of a grant's export files are held, sealed under the grant's key."""
    return portal.settings.data_dir / HOLDING / grant_id


def _sealed_path(portal: Portal, file: ExportFile, grant_id: str) -> Path:
    return holding_dir(portal, grant_id) / str(file.request_id) / f"{file.id}.v{file.version}"


def _aad(grant_id: str, file: ExportFile) -> bytes:
    return f"{grant_id}/{file.request_id}/{file.name}/{file.version}/{file.sha256}".encode()


def _grant_key(portal: Portal, grant: Grant) -> bytes:
    if grant.wrapped_key is None:
        raise Forbidden(
            "the grant's key was erased: its export files can no longer be read",
            zh="授权密钥已销毁，导出文件无法再读取",
        )
    return portal.vault.unwrap(grant.wrapped_key)


def _seal(portal: Portal, grant: Grant, file: ExportFile, data: bytes) -> None:
    path = _sealed_path(portal, file, grant.id)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(_grant_key(portal, grant)).encrypt(nonce, data, _aad(grant.id, file))
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, nonce + sealed)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _unseal(portal: Portal, grant: Grant, file: ExportFile) -> bytes:
    path = _sealed_path(portal, file, grant.id)
    try:
        blob = path.read_bytes()
    except FileNotFoundError:
        raise NotFound(f"{file.name} is no longer held", zh=f"{file.name} 已不在暂存区") from None
    try:
        data = AESGCM(_grant_key(portal, grant)).decrypt(blob[:12], blob[12:], _aad(grant.id, file))
    except Error:
        raise
    except Exception as exc:  # InvalidTag carries no message
        raise Error(
            f"the held copy of {file.name} does not authenticate",
            zh=f"{file.name} 的暂存副本校验失败",
        ) from exc
    if hashlib.sha256(data).hexdigest() != file.sha256:
        raise Error(f"the held copy of {file.name} changed", zh=f"{file.name} 的暂存副本已被改动")
    return data


# ---- copying out of the workspace --------------------------------------------------------


def outbox_of(grant_id: str) -> Path:
    """The grant's workspace outbox on the host (``<workspace home>/outbox``)."""
    from sandbox.config import get_settings
    from sandbox.workspace import WorkspaceLayout

    settings = get_settings()
    layout = WorkspaceLayout.of(grant_id, settings.workspace_root, settings.workspace_run_dir)
    return layout.home / "outbox"


def clean_name(name: str) -> str:
    """A relative path inside the outbox, or ``InvalidInput``."""
    if not isinstance(name, str) or not name or len(name) > 512:
        raise InvalidInput("a file name is empty or too long", zh="文件名为空或过长")
    path = PurePosixPath(name)
    if (
        path.is_absolute()
        or "\\" in name
        or any(ord(c) < 32 for c in name)
        or any(part in ("", ".", "..") for part in name.split("/"))
    ):
        raise InvalidInput(
            f"{name!r} is not a plain path inside the outbox", zh=f"{name} 不是发件箱内的普通路径"
        )
    return str(path)


def read_outbox_file(outbox: Path, name: str, *, max_bytes: int) -> bytes:
    """Read ``outbox/name`` without following any symlink, as a regular file within the limit.

    Every component is opened relative to its parent with ``O_NOFOLLOW``, so nothing the
    workspace puts in the outbox (symlinks, FIFOs, devices, hard-to-see renames) leads outside it.
    """
    name = clean_name(name)
    refuse = InvalidInput(f"{name!r} is not a file in the outbox", zh=f"{name} 不是发件箱中的文件")
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        home_fd = os.open(outbox.parent, flags | os.O_DIRECTORY)
    except OSError:
        raise refuse from None
    fds = [home_fd]
    try:
        parts = ["outbox", *name.split("/")]
        for part in parts[:-1]:
            fds.append(os.open(part, flags | os.O_DIRECTORY, dir_fd=fds[-1]))
        fd = os.open(parts[-1], flags | os.O_NONBLOCK, dir_fd=fds[-1])
        fds.append(fd)
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise refuse
        if info.st_size > max_bytes:
            raise InvalidInput(
                f"{name} is {info.st_size} bytes, above the limit of {max_bytes}",
                zh=f"{name} 大小为 {info.st_size} 字节，超过上限 {max_bytes}",
            )
        chunks, total = [], 0
        while chunk := os.read(fd, 1 << 20):
            total += len(chunk)
            if total > max_bytes:
                raise InvalidInput(f"{name} grew above the size limit", zh=f"{name} 超过大小上限")
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError:
        raise refuse from None
    finally:
        for opened in reversed(fds):
            os.close(opened)


def _limits(grant: Grant) -> Limits:
    return Limits.from_rules(dict(grant.export_rules or {}))


def _take(portal: Portal, grant: Grant, file: ExportFile, pseudonyms: set[str]) -> None:
    """Copy the file out of the outbox, run its checks and seal the copy."""
    limits = _limits(grant)
    data = read_outbox_file(outbox_of(grant.id), file.name, max_bytes=limits.max_file_bytes)
    kind, results = run_checks(file.name, data, limits=limits, pseudonyms=pseudonyms)
    file.size = len(data)
    file.sha256 = hashlib.sha256(data).hexdigest()
    file.kind = kind
    file.checks = [r.to_json() for r in results]
    file.updated_at = portal.clock()
    _seal(portal, grant, file, data)


def _pseudonyms(portal: Portal, grant: Grant) -> set[str]:
    return grant_pseudonyms(portal.settings.releases_dir / "grants" / grant.id)


# ---- requesters ----------------------------------------------------------------------------


def request_export(
    portal: Portal,
    *,
    actor: str,
    grant_id: str,
    files: Sequence[str],
    justification: str = "",
    controls: str = "",
    group: str = "default",
) -> ExportRequest:
    """A member asks for files of the grant's outbox to be exported: a pending request."""
    names = _names(files)
    with portal.sessions.begin() as session:
        grant = _grant(session, grant_id)
        check(actor, "create", export_resource(session, grant, actor, actor, portal.clock()))
        request = ExportRequest(
            grant_id=grant.id,
            author=actor,
            status=E.PENDING,
            groups={group: {"context": justification.strip(), "controls": controls.strip()}},
            reviewers_required=int((grant.export_rules or {}).get("reviewers_required", 1)),
            created_at=portal.clock(),
        )
        session.add(request)
        session.flush()
        pseudonyms = _pseudonyms(portal, grant)
        try:
            for name in names:
                file = ExportFile(request_id=request.id, name=name, group=group, sha256="")
                request.files.append(file)
                session.flush()
                _take(portal, grant, file, pseudonyms)
        except BaseException:
            shutil.rmtree(holding_dir(portal, grant.id) / str(request.id), ignore_errors=True)
            raise
        record(
            portal,
            "export.requested",
            actor=actor,
            subject=f"grant:{grant.id}",
            object=f"export:{request.id}",
            files=[_file_entry(f) for f in request.files],
        )
    return request


def add_files(
    portal: Portal, *, actor: str, request_id: int, files: Sequence[str], group: str = "default"
) -> ExportRequest:
    """Add files of the outbox to a pending or returned request."""
    names = _names(files)
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
        pseudonyms = _pseudonyms(portal, grant)
        for name in names:
            file = ExportFile(request_id=request.id, name=name, group=group, sha256="")
            request.files.append(file)
            session.flush()
            _take(portal, grant, file, pseudonyms)
            record(
                portal,
                "export.file_added",
                actor=actor,
                subject=f"grant:{grant.id}",
                object=f"export:{request.id}",
                file=_file_entry(file),
            )
    return request


def update_file(portal: Portal, *, actor: str, request_id: int, file_id: int) -> ExportFile:
    """Take a new copy of a file from the outbox: a new version, whose votes start afresh."""
    with portal.sessions.begin() as session:
        request, grant = _editable(portal, session, request_id, actor)
        file = _file(request, file_id)
        old = _sealed_path(portal, file, grant.id)
        file.version += 1
        file.response = ""
        file.withdrawn = False
        _take(portal, grant, file, _pseudonyms(portal, grant))
        old.unlink(missing_ok=True)
        record(
            portal,
            "export.file_updated",
            actor=actor,
            subject=f"grant:{grant.id}",
            object=f"export:{request.id}",
            file=_file_entry(file),
        )
    return file


def withdraw_file(portal: Portal, *, actor: str, request_id: int, file_id: int) -> ExportFile:
    """Take a file out of a pending or returned request."""
    with portal.sessions.begin() as session:
        request, grant = _editable(portal, session, request_id, actor)
        file = _file(request, file_id)
        file.withdrawn = True
        _sealed_path(portal, file, grant.id).unlink(missing_ok=True)
        record(
            portal,
            "export.file_withdrawn",
            actor=actor,
            subject=f"grant:{grant.id}",
            object=f"export:{request.id}",
            file=file.name,
        )
    return file


def set_group(
    portal: Portal, *, actor: str, request_id: int, group: str, context: str, controls: str
) -> ExportRequest:
    """The justification of a file group: its context and the disclosure controls applied."""
    with portal.sessions.begin() as session:
        request, grant = _editable(portal, session, request_id, actor)
        if group not in request.groups:
            raise NotFound(f"no file group {group!r}", zh=f"没有文件组 {group}")
        request.groups = {
            **request.groups,
            group: {"context": context.strip(), "controls": controls.strip()},
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
        file = _file(request, file_id)
        file.response = response.strip()
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
        request = _get(session, request_id, lock=True)
        check(actor, "edit", _resource(portal, session, request, actor))
        request.status = next_state(request.status, "submit")
        files = active_files(request)
        if not files:
            raise InvalidInput("the request has no files", zh="导出申请中没有文件")
        for name in sorted({f.group for f in files}):
            group = request.groups.get(name, {})
            if not (group.get("context") and group.get("controls")):
                raise InvalidInput(
                    f"describe the context and the disclosure controls of file group {name!r}",
                    zh=f"请填写文件组「{name}」的背景说明和已采取的披露控制措施",
                )
        unanswered = [f.name for f in files if f.failing_checks and not f.response]
        if unanswered:
            raise InvalidInput(
                f"answer the failing checks of {unanswered[0]} before submitting",
                zh=f"提交前请回应 {unanswered[0]} 未通过的自动检查",
            )
        request.submitted_at = portal.clock()
        record(
            portal,
            "export.submitted",
            actor=actor,
            subject=f"grant:{request.grant_id}",
            object=f"export:{request.id}",
            round=request.round,
            files=[_file_entry(f) for f in files],
        )
        grant = _grant(session, request.grant_id)
        officers = set(portal.policy.users_with_role("officer")) - set(grant.member_names)
        notify(
            session,
            officers - {request.author},
            zh=f"导出申请 #{request.id}（授权 {grant.id}）等待您审核",
            en=f"Export request #{request.id} (grant {grant.id}) is waiting for your review",
            link=f"exports/{request.id}",
        )
    return request


def withdraw(portal: Portal, *, actor: str, request_id: int) -> ExportRequest:
    with portal.sessions.begin() as session:
        request = _get(session, request_id, lock=True)
        check(actor, "edit", _resource(portal, session, request, actor))
        request.status = next_state(request.status, "withdraw")
        _discard_holding(portal, request)
        record(
            portal,
            "export.withdrawn",
            actor=actor,
            subject=f"grant:{request.grant_id}",
            object=f"export:{request.id}",
        )
    return request


# ---- officers ------------------------------------------------------------------------------


def _check_reviewer(portal: Portal, session: Session, request: ExportRequest, actor: str) -> None:
    if not can(portal, session, request, actor, "review"):
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
        request = _get(session, request_id, lock=True)
        _check_reviewer(portal, session, request, actor)
        if request.status not in VOTING:
            raise InvalidTransition(
                f"votes are cast while a request is under review, not {request.status.value}",
                zh="只能在审核中投票",
            )
        if _completed(request, actor):
            raise InvalidTransition(
                "you have already completed your review of this round",
                zh="您已完成本轮审核，不能再修改投票",
            )
        file = _file(request, file_id)
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
        request = _get(session, request_id, lock=True)
        _check_reviewer(portal, session, request, actor)
        if request.status not in VOTING:
            next_state(request.status, "last_review")
        if _completed(request, actor):
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
        if not (action == "first_review" and request.status == E.PARTIALLY_REVIEWED):
            request.status = next_state(request.status, action)
        record(
            portal,
            "export.review_completed",
            actor=actor,
            subject=f"grant:{request.grant_id}",
            object=f"export:{request.id}",
            round=request.round,
            reviews=done,
            required=request.reviewers_required,
            status=request.status.value,
        )
    return request


def decide(
    portal: Portal, *, actor: str, request_id: int, decision: str, comment: str = ""
) -> ExportRequest:
    """approve (every file approved by enough independent officers), reject, or return."""
    if decision not in DECISIONS:
        raise NotFound(f"unknown decision {decision!r}", zh=f"未知决定 {decision}")
    with portal.sessions.begin() as session:
        request = _get(session, request_id, lock=True)
        if not can(portal, session, request, actor, "decide"):
            raise Forbidden(
                "only a security officer who neither wrote this request nor belongs to its grant "
                "may decide on it",
                zh="只有既非申请人、也非该授权成员的安全审核员可以作出决定",
            )
        target = next_state(request.status, decision)
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
        request.status = target
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
        if target == E.RETURNED:
            request.round += 1
        if target == E.REJECTED:
            _discard_holding(portal, request)
        record(
            portal,
            f"export.{target.value}",
            actor=actor,
            subject=f"grant:{request.grant_id}",
            object=f"export:{request.id}",
            comment=comment.strip(),
        )
        grant = _grant(session, request.grant_id)
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
        request = _get(session, request_id, lock=True)
        if not can(portal, session, request, actor, "decide"):
            raise Forbidden(
                "only an independent security officer may release files",
                zh="只有独立的安全审核员可以放行文件",
            )
        request.status = next_state(request.status, "release")
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
                    **_file_entry(f),
                    "approved_by": sorted(approvals(f)),
                    "checks": {c["check"]: bool(c["passed"]) for c in f.checks},
                    "response": f.response,
                }
                for f in files
            ],
        }
        request.manifest = manifest
        request.manifest_index = record(
            portal,
            "export.released",
            actor=actor,
            subject=f"grant:{request.grant_id}",
            object=f"export:{request.id}",
            manifest=manifest,
        )
        grant = _grant(session, request.grant_id)
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
    if not text.strip():
        raise InvalidInput("a comment cannot be empty", zh="意见不能为空")
    with portal.sessions.begin() as session:
        request = _get(session, request_id, lock=True)
        reviewer = can(portal, session, request, actor, "review")
        if not reviewer and not can(portal, session, request, actor, "edit"):
            raise Forbidden("you cannot comment on this request", zh="您不能对此导出申请发表意见")
        if visibility == Visibility.PRIVATE and not reviewer:
            raise Forbidden("only officers write private comments", zh="只有审核员可以发表内部意见")
        if request.status in (E.RELEASED, E.REJECTED, E.WITHDRAWN):
            raise InvalidTransition("the request is closed", zh="导出申请已结束")
        if file_id is not None:
            _file(request, file_id)
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


# ---- reading -------------------------------------------------------------------------------


def file_content(
    portal: Portal, *, actor: str, request_id: int, file_id: int, purpose: str = "file"
) -> tuple[ExportFile, bytes]:
    """The held copy of a file, for the officers who review the request (one audit event).

    ``purpose`` says how the bytes are shown (``file``: served as they are; ``preview``: rendered
    into the request page). Nothing is recorded when the bytes are refused or cannot be read.
    """
    with portal.sessions.begin() as session:
        request = get_request(portal, session, actor=actor, request_id=request_id)
        if not may_see_held(portal, session, request, actor):
            raise Forbidden(
                "held files are shown only to the officers reviewing the request, once it is "
                "submitted; requesters download the files after their release",
                zh="暂存文件仅向审核此申请的安全审核员展示（提交之后）；申请人在放行后下载",
            )
        file = _file(request, file_id)
        if file.withdrawn:
            raise NotFound(f"{file.name} was withdrawn", zh=f"{file.name} 已撤回")
        data = _unseal(portal, _grant(session, request.grant_id), file)
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
        check(actor, "download", _resource(portal, session, request, actor))
        if request.status != E.RELEASED:
            raise InvalidTransition(
                "only released files can be downloaded", zh="只有已放行的文件可以下载"
            )
        file = _file(request, file_id)
        if file.withdrawn:
            raise NotFound(f"{file.name} was not released", zh=f"{file.name} 未放行")
        data = _unseal(portal, _grant(session, request.grant_id), file)
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
    request = _get(session, request_id)
    if not can(portal, session, request, actor, "read"):
        raise NotFound(f"no export request #{request_id}", zh=f"没有导出申请 #{request_id}")
    return request


def list_requests(
    portal: Portal, session: Session, *, actor: str, grant_id: str | None = None
) -> list[ExportRequest]:
    """Requests the actor may read, newest first."""
    query = select(ExportRequest).order_by(ExportRequest.id.desc())
    if grant_id is not None:
        query = query.where(ExportRequest.grant_id == grant_id)
    return [r for r in session.scalars(query) if can(portal, session, r, actor, "read")]


def review_queue(portal: Portal, session: Session, *, actor: str) -> list[ExportRequest]:
    """Requests under review that wait for this officer: a review to finish or a decision."""
    waiting = session.scalars(
        select(ExportRequest)
        .where(ExportRequest.status.in_(sorted(UNDER_REVIEW | {E.APPROVED})))
        .order_by(ExportRequest.id)
    )
    out = []
    for request in waiting:
        if not can(portal, session, request, actor, "review"):
            continue
        if request.status in VOTING and _completed(request, actor):
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


def close_for_destruction(portal: Portal, session: Session, grant_id: str, actor: str) -> list[int]:
    """Close the grant's pending and returned requests (called by the destruction)."""
    closed = []
    for request in session.scalars(
        select(ExportRequest).where(
            ExportRequest.grant_id == grant_id, ExportRequest.status.in_(sorted(EDITABLE))
        )
    ):
        request.status = next_state(request.status, "close")
        record(
            portal,
            "export.closed",
            actor=actor,
            subject=f"grant:{grant_id}",
            object=f"export:{request.id}",
            reason="grant destroyed",
        )
        closed.append(request.id)
    return closed


# ---- helpers -------------------------------------------------------------------------------


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


def _completed(request: ExportRequest, reviewer: str) -> bool:
    return reviewer in reviewers_of_round(request)


def visible_comments(
    portal: Portal, session: Session, request: ExportRequest, user: str
) -> list[ExportComment]:
    officer = can(portal, session, request, user, "review")
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


def _file_entry(file: ExportFile) -> dict[str, Any]:
    return {
        "name": file.name,
        "group": file.group,
        "version": file.version,
        "size": file.size,
        "sha256": file.sha256,
    }


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
    request = _get(session, request_id, lock=True)
    check(actor, "edit", _resource(portal, session, request, actor))
    if request.status not in EDITABLE:
        raise InvalidTransition(
            f"an export request that is {request.status.value} cannot be changed",
            zh="只有待提交或被退回的导出申请可以修改",
        )
    return request, _grant(session, request.grant_id)


def _discard_holding(portal: Portal, request: ExportRequest) -> None:
    for file in request.files:
        _sealed_path(portal, file, request.grant_id).unlink(missing_ok=True)


def _file(request: ExportRequest, file_id: int) -> ExportFile:
    for file in request.files:
        if file.id == file_id:
            return file
    raise NotFound(f"no file {file_id} in export request #{request.id}", zh="导出申请中没有该文件")


def _grant(session: Session, grant_id: str) -> Grant:
    grant = session.get(Grant, grant_id)
    if grant is None:
        raise NotFound(f"no grant {grant_id!r}", zh=f"没有授权 {grant_id}")
    return grant


def _get(session: Session, request_id: int, *, lock: bool = False) -> ExportRequest:
    """The request; ``lock`` holds its row until commit, so concurrent changes serialise."""
    request = session.get(ExportRequest, request_id, with_for_update=lock, populate_existing=lock)
    if request is None:
        raise NotFound(f"no export request #{request_id}", zh=f"没有导出申请 #{request_id}")
    return request


@dataclass(frozen=True)
class RequestSummary:
    """Counts shown in queues."""

    files: int
    failing: int


def summary(request: ExportRequest) -> RequestSummary:
    files = active_files(request)
    return RequestSummary(len(files), sum(1 for f in files if f.failing_checks))
