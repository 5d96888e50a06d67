"""Grants: created by approval; suspended, reinstated, revoked, ended and expired here.

A grant ends at the end of its application's last day (``ends_on``, in the portal's time zone):
the application and the grant show the same last day. A grant its holder ends early is
``ended`` at once (its term ends now) and is destroyed automatically like an expired one.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from open_portal import dates, ledger, permissions
from open_portal.exceptions import InvalidTransition, NotFound
from open_portal.i18n import translator
from open_portal.labels import label
from open_portal.models import (
    Application,
    Dataset,
    DatasetVersion,
    Grant,
    GrantDataset,
    GrantInvitation,
    GrantMember,
    GrantStatus,
    Level,
)
from open_portal.service import workspace_credentials
from open_portal.service.context import Portal
from open_portal.service.notifications import notify
from open_portal.service.transitions import transition
from policies import AccessDenied

G = GrantStatus

# who may change a grant's status, by action
CHANGE_CHECKS = {
    "suspend": permissions.check_can_suspend_grant,
    "reinstate": permissions.check_can_reinstate_grant,
    "revoke": permissions.check_can_revoke_grant,
    "end": permissions.check_can_end_grant,
}

DEFAULT_L3_EPSILON = Decimal("1.0")

# Called after a grant stops being usable (e.g. to stop its workspace); set by the launcher.
on_grant_stopped: list[Callable[[Grant], Any]] = []


def grant_id_for(application: Application) -> str:
    return f"g{application.id:04d}"


def export_rules(level: Level) -> dict[str, Any]:
    """Export review rules: one officer for L2, two independent officers for L3."""
    return {
        "reviewers_required": 2 if level == Level.L3 else 1,
        "max_file_bytes": 20 * 1024 * 1024,
        "min_cell_count": 10,
    }


def granted_epsilon(application: Application) -> Decimal:
    """The ε a grant gets: the ε requested, or the default when a dataset is asked at L3 (the
    application's level is its highest dataset's) and none was."""
    epsilon = Decimal(application.epsilon_requested or "0")
    if application.level == Level.L3 and epsilon <= 0:
        return DEFAULT_L3_EPSILON
    return epsilon


def create_grant(
    portal: Portal, session: Session, *, application: Application, actor: str
) -> Grant:
    """Turn an approved application into a grant (called by the approval itself)."""
    first, end = dates.term(application.starts_on, application.ends_on, portal.settings.time_zone)
    start = max(portal.clock(), first)
    epsilon = granted_epsilon(application)
    grant = Grant(
        id=grant_id_for(application),
        application_id=application.id,
        holder=application.applicant,
        organisation=application.organisation,
        organisation_uscc=application.organisation_uscc,
        level=application.level,
        starts_at=start,
        ends_at=end,
        epsilon_budget=str(epsilon),
        export_rules=export_rules(application.level),
        wrapped_key=portal.vault.new_wrapped_key(),
        # the holder is the only member at first; the team joins by accepting an invitation
        members=[GrantMember(user_name=application.applicant)],
        invitations=[
            GrantInvitation(user_name=name, created_at=portal.clock())
            for name in sorted(set(application.team_members) - {application.applicant})
        ],
        created_at=portal.clock(),
    )
    for item in application.datasets:
        dataset = session.get(Dataset, item.dataset_id)
        assert dataset is not None
        grant.datasets.append(
            GrantDataset(
                dataset_id=item.dataset_id, version_id=pinned_version(dataset).id, level=item.level
            )
        )
    session.add(grant)
    transition(
        portal,
        grant,
        "create",
        actor=actor,
        application=application.id,
        holder=grant.holder,
        members=grant.member_names,
        invited=sorted(i.user_name for i in grant.invitations),
        level=grant.level.value,
        datasets={d.dataset_id: d.version_id for d in grant.datasets},
        levels={d.dataset_id: d.level.value for d in grant.datasets},
        starts_at=grant.starts_at.isoformat(),
        ends_at=grant.ends_at.isoformat(),
        epsilon=grant.epsilon_budget,
    )
    if epsilon > 0:
        ledger.open_ledger(session, grant.id, epsilon, ends_at=grant.ends_at)
    notify(
        session,
        set(grant.member_names),
        zh=f"授权 {grant.id} 已生效，可以打开工作区",
        en=f"Grant {grant.id} is active: you can open its workspace",
        link=f"grants/{grant.id}",
    )
    notify(
        session,
        set(grant.invited_names),
        zh=f"{grant.holder} 邀请您加入授权 {grant.id}：请在授权页面接受或拒绝",
        en=f"{grant.holder} invites you to join grant {grant.id}: accept or decline on its page",
        link=f"grants/{grant.id}",
    )
    return grant


def pinned_version(dataset: Dataset) -> DatasetVersion:
    """The version a grant gets: the newest whose policy the owner confirmed; refuse if none."""
    version = permissions.confirmed_version(dataset)
    if version is None:
        raise InvalidTransition(
            f"dataset {dataset.id} has no version whose desensitization policy its owner "
            "confirmed: it cannot be granted until the owner confirms one",
            zh=f"数据集 {dataset.id} 没有经数据提供方确认脱敏策略的版本，确认前不能授权",
        )
    return version


def answer_invitation(portal: Portal, *, actor: str, grant_id: str, accept: bool) -> Grant:
    """A team member accepts (joins the grant) or declines the invitation; nobody else can."""
    with portal.sessions.begin() as session:
        grant = get_grant(portal, session, actor=actor, grant_id=grant_id)
        permissions.check_can_join_grant(portal.policy, session, actor, grant, portal.clock())
        invitation = next(i for i in grant.invitations if i.user_name == actor)
        transition(portal, invitation, "accept" if accept else "decline", actor=actor)
        invitation.answered_at = portal.clock()
        if accept:
            grant.members.append(GrantMember(user_name=actor))
        notify(
            session,
            {grant.holder},
            zh=f"{actor} {'已加入' if accept else '拒绝加入'}授权 {grant.id}",
            en=f"{actor} {'joined' if accept else 'declined to join'} grant {grant.id}",
            link=f"grants/{grant.id}",
        )
    return grant


def change_status(
    portal: Portal, *, actor: str, grant_id: str, action: str, reason: str = ""
) -> Grant:
    """suspend / reinstate / revoke / end (by the holder) a grant."""
    with portal.sessions.begin() as session:
        grant = get_grant(portal, session, actor=actor, grant_id=grant_id)
        if action not in CHANGE_CHECKS:
            raise AccessDenied(actor, action, "grant")
        CHANGE_CHECKS[action](portal.policy, session, actor, grant, portal.clock())
        transition(portal, grant, action, actor=actor, reason=reason)
        grant.status_reason = reason
        if grant.status == G.ENDED:
            grant.ends_at = min(grant.ends_at, portal.clock())
        if grant.status != G.ACTIVE:
            workspace_credentials.revoke_in(session, grant.id)
        notify(
            session,
            set(grant.member_names) - {actor},
            zh=f"授权 {grant.id} 状态变更为：{translator('zh')(label(grant.status))}",
            en=f"Grant {grant.id} is now {label(grant.status).lower()}",
            link=f"grants/{grant.id}",
        )
    if grant.status in (G.REVOKED, G.EXPIRED, G.ENDED):
        ledger.close_ledger(portal.engine, grant.id, now=portal.clock())
    if grant.status != G.ACTIVE:
        for hook in on_grant_stopped:
            hook(grant)
    return grant


def expire_due(portal: Portal) -> list[Grant]:
    """Mark every grant whose term has ended as expired (run periodically by the portal)."""
    now = portal.clock()
    expired = []
    with portal.sessions.begin() as session:
        due = session.scalars(
            select(Grant).where(Grant.status.in_([G.ACTIVE, G.SUSPENDED]), Grant.ends_at <= now)
        ).all()
        for grant in due:
            transition(portal, grant, "expire", actor="system")
            workspace_credentials.revoke_in(session, grant.id)
            expired.append(grant)
    for grant in expired:
        ledger.close_ledger(portal.engine, grant.id, now=now)
        for hook in on_grant_stopped:
            hook(grant)
    return expired


def get_grant(portal: Portal, session: Session, *, actor: str, grant_id: str) -> Grant:
    grant = session.get(Grant, grant_id)
    if grant is None or not permissions.can_read_grant(
        portal.policy, session, actor, grant, portal.clock()
    ):
        raise NotFound(f"no grant {grant_id!r}", zh=f"没有授权 {grant_id}")
    return grant


def list_grants(portal: Portal, session: Session, *, actor: str) -> list[Grant]:
    every = session.scalars(select(Grant).order_by(Grant.created_at.desc())).all()
    now = portal.clock()
    return [g for g in every if permissions.can_read_grant(portal.policy, session, actor, g, now)]
