"""Certified destruction of a grant: nothing of a grant outlives it.

When a grant has expired or been revoked (or its holder ended it), ``destroy_grant`` stops and
destroys its workspace, removes its release and its export holding area, erases its key (the
pseudonym key, which also seals the holding area: cryptographic erase, NIST SP 800-88), closes
its privacy ledger, moves it to ``destroyed`` and writes a destruction certificate to the audit
log (``grant.destroyed``, subject ``grant:<id>``). A ``GrantDestruction`` row records each step as
it is done, so a destruction that dies half way resumes where it stopped, and a finished one is
not repeated: calling again returns the same certificate.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from audit.events import GRANT_DESTROYED
from open_portal import ledger, permissions
from open_portal.exceptions import AuditPending, Forbidden, InvalidTransition, NotFound
from open_portal.models import (
    DatasetVersion,
    DestructionStatus,
    Grant,
    GrantDestruction,
    GrantStatus,
)
from open_portal.service import auditing, exports
from open_portal.service.context import Portal
from open_portal.service.exports.fields import MAX_REASON, bounded
from open_portal.service.grants import get_grant
from open_portal.service.notifications import notify
from open_portal.service.transitions import move_of, transition

SYSTEM = "system"
CERTIFICATE_FORMAT = "pds-destruction-certificate/v1"
METHOD = (
    "NIST SP 800-88 Rev. 1: cryptographic erase of the grant's keys (purge of every copy sealed "
    "under them) and removal of the workspace, release and holding-area files (clear)"
)
#: Destroyed by the portal's periodic task without an officer: the term is over, or the holder
#: ended the grant. A revoked grant waits for two security officers (started and confirmed).
AUTOMATIC = {GrantStatus.EXPIRED, GrantStatus.ENDED}
STEPS = ("exports", "workspace", "release", "holding_area", "keys", "ledger")

# Replaced in tests of a crash half way: called with the name of each step once it is recorded.
after_step: list[Callable[[str], None]] = []


def destroy_grant(
    portal: Portal,
    *,
    actor: str,
    grant_id: str,
    confirmed_by: str,
    reason: str = "",
    automatic: bool = False,
) -> dict[str, Any]:
    """Destroy everything of an ended grant and certify it; returns the certificate's evidence.

    ``actor`` triggered it (the holder, an officer, or ``system`` on expiry); ``confirmed_by``
    is the security officer who confirmed it (``system`` only for ``automatic`` destruction of
    a grant whose term is over). Refused while an export request waits for an officer.
    """
    reason = bounded(reason, "reason", MAX_REASON)
    with portal.sessions.begin() as session:
        grant = _grant(session, grant_id)
        done = session.get(GrantDestruction, grant_id)
        if done is not None and done.status == DestructionStatus.DONE:
            assert done.certificate_index is not None
            index = done.certificate_index
        else:
            index = None
            _check_people(portal, session, grant, actor, confirmed_by, automatic)
            move_of(grant, "destroy")
            waiting = exports.under_review(session, grant_id)
            if waiting:
                raise InvalidTransition(
                    f"export request #{waiting[0].id} is under review: an officer must decide "
                    "on it before the grant is destroyed",
                    zh=f"导出申请 #{waiting[0].id} 正在审核，须由审核员作出决定后才能销毁授权",
                )
            if done is None or done.status == DestructionStatus.REQUESTED:
                if done is None:
                    done = GrantDestruction(grant_id=grant_id, steps={})
                    session.add(done)
                done.triggered_by = actor
                done.confirmed_by = confirmed_by
                done.reason = reason or done.reason
                done.started_at = portal.clock()
                transition(
                    portal,
                    done,
                    "start",
                    actor=actor,
                    confirmed_by=confirmed_by,
                    reason=reason,
                )
    if index is not None:
        return portal.audit.evidence(index)
    for step in STEPS:
        _run_step(portal, grant_id, step)
    return portal.audit.evidence(_certify(portal, grant_id))


def _check_people(
    portal: Portal,
    session: Any,
    grant: Grant,
    actor: str,
    confirmed_by: str,
    automatic: bool,
) -> None:
    now = portal.clock()
    if automatic:
        if actor != SYSTEM or confirmed_by != SYSTEM:
            raise Forbidden("automatic destruction is the system's", zh="自动销毁只能由系统执行")
        if grant.status not in AUTOMATIC or grant.ends_at > now:
            raise InvalidTransition(
                "only a grant whose term is over or that its holder ended is destroyed without "
                "an officer",
                zh="只有期限届满或由持有人结束的授权可以自动销毁，其他情况须由安全审核员确认",
            )
        return
    # separation of duties: the officer who confirms is not the one who started it
    permissions.check_can_confirm_destruction(
        portal.policy, session, confirmed_by, grant, now, started_by=actor
    )
    permissions.check_can_start_destruction(portal.policy, session, actor, grant, now)


def request_or_confirm(
    portal: Portal, *, actor: str, grant_id: str, reason: str = ""
) -> dict[str, Any]:
    """What the destruction button does: start a destruction (the holder or an officer), or
    confirm and run the one another person started (a security officer other than its starter).

    Returns ``{"status": "requested", ...}`` after a start, the certificate's evidence after a
    confirmation (or when the grant is destroyed already).
    """
    reason = bounded(reason, "reason", MAX_REASON)
    with portal.sessions.begin() as session:
        grant = get_grant(portal, session, actor=actor, grant_id=grant_id)
        pending = session.get(GrantDestruction, grant_id)
        if pending is None:
            permissions.check_can_start_destruction(
                portal.policy, session, actor, grant, portal.clock()
            )
            move_of(grant, "destroy")
            requested = GrantDestruction(
                grant_id=grant_id,
                triggered_by=actor,
                confirmed_by="",
                reason=reason,
                steps={},
                started_at=portal.clock(),
            )
            session.add(requested)
            transition(portal, requested, "request", actor=actor, reason=reason)
            notify(
                session,
                permissions.officers_to_confirm_destruction(
                    portal.policy, session, grant, portal.clock(), started_by=actor
                ),
                zh=f"{actor} 申请销毁授权 {grant_id}，须由另一位安全审核员确认",
                en=f"{actor} asks to destroy grant {grant_id}: another security officer confirms",
                link=f"destruction/{grant_id}",
            )
            return {"status": "requested", "grant": grant_id, "requested_by": actor}
        started_by, confirmer = pending.triggered_by, pending.confirmed_by
        if pending.status == DestructionStatus.REQUESTED:
            confirmer = actor
        elif pending.status == DestructionStatus.STARTED:
            # resuming an interrupted destruction is a confirmation too, not anyone's click
            permissions.check_can_confirm_destruction(
                portal.policy, session, actor, grant, portal.clock(), started_by=started_by
            )
    return destroy_grant(
        portal, actor=started_by, grant_id=grant_id, confirmed_by=confirmer, reason=reason
    )


def _run_step(portal: Portal, grant_id: str, step: str) -> None:
    with portal.sessions() as session:
        destruction = session.get(GrantDestruction, grant_id)
        assert destruction is not None
        if step in destruction.steps:
            return
        actor = destruction.triggered_by
    result = STEP_FUNCTIONS[step](portal, grant_id, actor)
    with portal.sessions.begin() as session:
        destruction = session.get(GrantDestruction, grant_id)
        assert destruction is not None
        destruction.steps = {**destruction.steps, step: result}
    for hook in after_step:
        hook(step)


def _close_exports(portal: Portal, grant_id: str, actor: str) -> dict[str, Any]:
    """Close what requesters still hold, and drop the masked excerpts of personal data that the
    checks kept for reviewers (the counts stay)."""
    from open_portal.models import ExportRequest

    with portal.sessions.begin() as session:
        closed = exports.close_for_destruction(portal, session, grant_id, actor)
        requests = session.scalars(
            select(ExportRequest).where(ExportRequest.grant_id == grant_id)
        ).all()
        for request in requests:
            for file in request.files:
                file.checks = [
                    {
                        **c,
                        "details": {
                            k: v for k, v in c.get("details", {}).items() if k != "examples"
                        },
                    }
                    for c in file.checks
                ]
        return {
            "closed": closed,
            "requests": [{"id": r.id, "status": r.status.value} for r in requests],
        }


def _destroy_workspace(portal: Portal, grant_id: str, actor: str) -> dict[str, Any]:
    """Stop every member's named server (and remove it from the hub), then destroy the files."""
    from sandbox.lifecycle import destroy_workspace, stop_workspace

    api_url = os.environ.get("JUPYTERHUB_API_URL", "")
    token = os.environ.get("JUPYTERHUB_API_TOKEN", "")
    with portal.sessions() as session:
        members = _grant(session, grant_id).member_names
    if api_url and token:
        for member in members:
            stop_workspace(api_url, token, member, grant_id, remove=True, timeout=60)
    destroyed = destroy_workspace(grant_id, actor=actor)
    return {
        "account": destroyed.account,
        "account_deleted": destroyed.account_deleted,
        "files": [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in destroyed.files],
        "total_bytes": destroyed.total_bytes,
        "manifest_sha256": destroyed.manifest_sha256,
        "method": destroyed.method,
        "destroyed_at": destroyed.destroyed_at.isoformat(),
    }


def _hash_and_remove(
    root: Path, *, before: Callable[[Path], object] | None = None
) -> dict[str, Any]:
    """Hash every file under ``root``, then remove it; the list and its digest for the record.

    ``before`` runs on each directory under ``root`` (e.g. to unmount it) before removal.
    """
    files: list[dict[str, Any]] = []
    if root.is_symlink():
        root.unlink()
    elif root.is_dir():
        for dirpath, _dirs, names in os.walk(root, followlinks=False):
            for name in names:
                path = Path(dirpath) / name
                if path.is_symlink() or not path.is_file():
                    continue
                digest = hashlib.sha256()
                with open(path, "rb") as f:
                    while chunk := f.read(1 << 20):
                        digest.update(chunk)
                files.append(
                    {
                        "path": str(path.relative_to(root)),
                        "size": path.stat().st_size,
                        "sha256": digest.hexdigest(),
                    }
                )
        if before is not None:
            for directory in sorted(p for p in root.rglob("*") if p.is_dir()):
                before(directory)
        shutil.rmtree(root)
    files.sort(key=lambda f: str(f["path"]))
    manifest = hashlib.sha256(
        "".join(f"{f['path']}\t{f['size']}\t{f['sha256']}\n" for f in files).encode()
    ).hexdigest()
    return {"files": files, "manifest_sha256": manifest, "removed": not root.exists()}


def _destroy_release(portal: Portal, grant_id: str, actor: str) -> dict[str, Any]:
    from open_portal import workspaces

    plain = workspaces.release_dir(portal, grant_id)
    in_memory = os.path.ismount(plain)
    result = _hash_and_remove(
        workspaces.release_root(portal, grant_id), before=workspaces.unmount_memory
    )
    method = "at-rest copy sealed with AES-256-GCM under the grant's key; files removed; key erased"
    if in_memory:
        method = "plaintext only in memory (tmpfs), unmounted; " + method
    return {**result, "method": method}


def _destroy_holding(portal: Portal, grant_id: str, actor: str) -> dict[str, Any]:
    result = _hash_and_remove(exports.holding_dir(portal, grant_id))
    return {
        **result,
        "method": "sealed with AES-256-GCM under the grant's key; files removed; key erased",
    }


def _erase_keys(portal: Portal, grant_id: str, actor: str) -> dict[str, Any]:
    with portal.sessions.begin() as session:
        grant = _grant(session, grant_id)
        wrapped = grant.wrapped_key
        grant.wrapped_key = None
    return {
        "pseudonym_key": {
            "erased": True,
            # the digest of the wrapped key identifies which key was erased without keeping it
            "wrapped_key_sha256": hashlib.sha256(wrapped).hexdigest() if wrapped else None,
        },
        "method": "cryptographic erase (NIST SP 800-88 purge): the only copy of the wrapped "
        "key deleted from the portal database; the export holding area was sealed under it",
    }


def _close_ledger(portal: Portal, grant_id: str, actor: str) -> dict[str, Any]:
    with portal.sessions.begin() as session:
        ledger.close_ledger(session, grant_id, now=portal.clock())
    return {"closed": True}


STEP_FUNCTIONS: dict[str, Callable[[Portal, str, str], dict[str, Any]]] = {
    "exports": _close_exports,
    "workspace": _destroy_workspace,
    "release": _destroy_release,
    "holding_area": _destroy_holding,
    "keys": _erase_keys,
    "ledger": _close_ledger,
}


def _certify(portal: Portal, grant_id: str) -> int:
    """Move the grant to destroyed and record the certificate (once, even after a crash)."""
    subject = f"grant:{grant_id}"
    with portal.sessions.begin() as session:
        grant = _grant(session, grant_id)
        destruction = session.get(GrantDestruction, grant_id)
        assert destruction is not None
        index = _existing_certificate(portal, subject, destruction.started_at)
        if grant.status != GrantStatus.DESTROYED:
            if index is None:
                certificate = _certificate(session, grant, destruction, portal.clock())
                transition(
                    portal,
                    grant,
                    "destroy",
                    actor=destruction.triggered_by,
                    index_into=(destruction, "certificate_index"),
                    **certificate,
                )
            else:  # the certificate reached the log before a crash: not recorded twice
                transition(portal, grant, "destroy", actor=destruction.triggered_by, logged=True)
        if index is not None:
            destruction.certificate_index = index
        transition(portal, destruction, "finish", actor=destruction.triggered_by)
        destruction.finished_at = portal.clock()
        notify(
            session,
            {*grant.member_names, destruction.confirmed_by} - {SYSTEM},
            zh=f"授权 {grant.id} 已销毁，销毁证明已写入审计日志",
            en=f"Grant {grant.id} is destroyed; its certificate is in the audit log",
            link=f"destruction/{grant.id}",
        )
    if destruction.certificate_index is None:  # committed; the log could not take it yet
        with portal.sessions() as session:
            index = session.get(GrantDestruction, grant_id).certificate_index  # type: ignore[union-attr]
        if index is None:
            raise AuditPending(
                "the destruction is done; its certificate will be in the audit log shortly",
                zh="销毁已完成，销毁证明稍后写入审计日志",
            )
        return index
    return destruction.certificate_index


def _existing_certificate(portal: Portal, subject: str, started_at: datetime) -> int | None:
    """A certificate of this destruction already in the log (written before a crash)."""
    index = auditing.latest_index(portal, GRANT_DESTROYED, subject)
    if index is None:
        return None
    for event in auditing.events_at(portal, [index]):
        if event.details.get("started_at") == started_at.isoformat():
            return index
    return None


def _certificate(
    session: Any, grant: Grant, destruction: GrantDestruction, now: datetime
) -> dict[str, Any]:
    datasets = []
    for item in grant.datasets:
        version = session.get(DatasetVersion, item.version_id)
        datasets.append(
            {
                "dataset": item.dataset_id,
                "version": version.number if version else None,
                "raw_sha256": version.raw_sha256 if version else None,
            }
        )
    steps = destruction.steps
    return {
        "format": CERTIFICATE_FORMAT,
        "grant": grant.id,
        "holder": grant.holder,
        "organisation": grant.organisation,
        "level": grant.level.value,
        "term": {"starts_at": grant.starts_at.isoformat(), "ends_at": grant.ends_at.isoformat()},
        "status_before": grant.status.value,
        "status_reason": grant.status_reason,
        "datasets": datasets,
        "destroyed": {
            "workspace": steps.get("workspace"),
            "release": steps.get("release"),
            "export_holding_area": steps.get("holding_area"),
            "keys": steps.get("keys"),
            "privacy_ledger": steps.get("ledger"),
            "export_requests": steps.get("exports"),
        },
        "method": METHOD,
        "triggered_by": destruction.triggered_by,
        "confirmed_by": destruction.confirmed_by,
        "reason": destruction.reason,
        "started_at": destruction.started_at.isoformat(),
        "finished_at": now.isoformat(),
    }


def destroy_expired(portal: Portal) -> list[str]:
    """Destroy every grant whose term is over or that its holder ended, and that has no export
    under review.

    For the portal's periodic task, after ``grants.expire_due``; returns the destroyed ids.
    Revoked grants wait for an officer's confirmation.
    """
    now = portal.clock()
    with portal.sessions() as session:
        due = {
            g.id: g.status
            for g in session.scalars(
                select(Grant).where(Grant.status.in_(AUTOMATIC), Grant.ends_at <= now)
            )
            if not exports.under_review(session, g.id)
        }
    for grant_id, status in due.items():
        destroy_grant(
            portal,
            actor=SYSTEM,
            grant_id=grant_id,
            confirmed_by=SYSTEM,
            reason="term ended" if status == GrantStatus.EXPIRED else "ended by its holder",
            automatic=True,
        )
    return list(due)


def destruction_of(
    portal: Portal, session: Any, *, actor: str, grant_id: str
) -> GrantDestruction | None:
    """The destruction record of a grant the actor may read."""
    grant = _grant(session, grant_id)
    permissions.check_can_read_grant(portal.policy, session, actor, grant, portal.clock())
    return session.get(GrantDestruction, grant_id)


def certificate(portal: Portal, *, actor: str, grant_id: str) -> dict[str, Any]:
    """The destruction certificate with its inclusion proof and a signed checkpoint."""
    with portal.sessions() as session:
        destruction = destruction_of(portal, session, actor=actor, grant_id=grant_id)
        if destruction is None or destruction.certificate_index is None:
            raise NotFound(f"grant {grant_id} is not destroyed", zh=f"授权 {grant_id} 尚未销毁")
        index = destruction.certificate_index
    return portal.audit.evidence(index)


def _grant(session: Any, grant_id: str) -> Grant:
    grant = session.get(Grant, grant_id)
    if grant is None:
        raise NotFound(f"no grant {grant_id!r}", zh=f"没有授权 {grant_id}")
    return grant
