"""Applications: drafts, submission, review by owners and officers, and the decision.

Every change checks the policy and makes its move through ``service.transitions`` (which
records the move's audit event) in one call.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from open_portal import ledger, permissions
from open_portal.exceptions import Forbidden, InvalidInput, InvalidTransition, NotFound
from open_portal.i18n import N_
from open_portal.models import (
    Application,
    ApplicationDataset,
    ApplicationDecision,
    ApplicationStatus,
    Dataset,
    Decision,
    Level,
    ReviewerRole,
    User,
)
from open_portal.schemas import ApplicationInput
from open_portal.service.auditing import record
from open_portal.service.catalog import visible_dataset
from open_portal.service.context import Portal
from open_portal.service.grants import create_grant, granted_epsilon, pinned_version
from open_portal.service.notifications import notify
from open_portal.service.transitions import move_of, transition

S = ApplicationStatus
EDITABLE = {S.DRAFT, S.RETURNED}


def level_for(dataset: Dataset, floor: Level | None) -> Level:
    """The level asked for one dataset: its own, or ``floor`` when that is higher (an L2 dataset
    asked at L3 gets differentially private answers only)."""
    if floor is not None and floor.value > dataset.level.value:
        return floor
    return dataset.level


def highest(levels: list[Level]) -> Level:
    """The level of an application or grant as a whole: the highest of its datasets'."""
    return max(levels, key=lambda level: level.value)


def _datasets(
    portal: Portal, session: Session, data: ApplicationInput, actor: str
) -> list[ApplicationDataset]:
    """Each requested dataset with the level asked for it, or ``InvalidInput``."""
    chosen = []
    for dataset_id in sorted(set(data.dataset_ids)):
        # a dataset the applicant may not see (L4, draft) is answered as an unknown one
        dataset = visible_dataset(portal, session, actor=actor, dataset_id=dataset_id)
        if dataset is None:
            raise InvalidInput(f"unknown dataset {dataset_id!r}", zh=f"没有数据集 {dataset_id}")
        if dataset.level == Level.L4:
            raise InvalidInput(
                f"{dataset_id} is level L4 (prohibited) and can never be requested",
                zh=f"{dataset_id} 为 L4（禁止开放）级，不能申请",
            )
        if dataset.level == Level.L1:
            raise InvalidInput(
                f"{dataset_id} is open (L1): download it without an application",
                zh=f"{dataset_id} 为无条件开放数据，可直接下载，无需申请",
            )
        if permissions.confirmed_version(dataset) is None:
            raise InvalidInput(
                f"{dataset_id} is not ready: its owner has not confirmed its policy",
                zh=f"{dataset_id} 尚未就绪：数据提供方未确认脱敏策略",
            )
        level = level_for(dataset, data.level)
        chosen.append(ApplicationDataset(dataset_id=dataset.id, level=level))
    return chosen


def _check_members(session: Session, members: list[str]) -> None:
    known = set(session.scalars(select(User.name).where(User.name.in_(members))))
    missing = [m for m in members if m not in known]
    if missing:
        raise InvalidInput(
            f"unknown team member {missing[0]!r}", zh=f"团队成员 {missing[0]} 不是平台用户"
        )


def create_application(portal: Portal, *, actor: str, data: ApplicationInput) -> Application:
    """Save a draft application; nothing is sent for review yet."""
    with portal.sessions.begin() as session:
        datasets = _datasets(portal, session, data, actor)
        _check_members(session, data.team_members)
        level = highest([d.level for d in datasets])
        application = Application(
            applicant=actor,
            kind=data.kind,
            organisation=data.organisation,
            organisation_uscc=data.organisation_uscc,
            purpose=data.purpose,
            project_description=data.project_description,
            products=data.products,
            team_members=[m for m in data.team_members if m != actor],
            level=level,
            starts_on=data.starts_on,
            ends_on=data.ends_on,
            epsilon_requested=data.epsilon,
            agreement_accepted=data.agreement_accepted,
            commitment_accepted=data.commitment_accepted,
            datasets=datasets,
            created_at=portal.clock(),
        )
        ids = [d.dataset_id for d in datasets]
        permissions.check_can_apply(portal.policy, session, actor, data.kind, ids)
        session.add(application)
        transition(
            portal,
            application,
            "create",
            actor=actor,
            datasets={d.dataset_id: d.level.value for d in datasets},
            level=level.value,
        )
    return application


def update_application(
    portal: Portal, *, actor: str, application_id: int, data: ApplicationInput
) -> Application:
    """Edit a draft or returned application."""
    with portal.sessions.begin() as session:
        application = _visible(portal, session, actor, application_id)
        permissions.check_can_edit_application(portal.policy, session, actor, application)
        if application.status not in EDITABLE:
            raise InvalidTransition(
                f"an application that is {application.status.value} cannot be edited",
                zh="只有草稿或被退回的申请可以修改",
            )
        datasets = _datasets(portal, session, data, actor)
        _check_members(session, data.team_members)
        for name in (
            "kind",
            "organisation",
            "organisation_uscc",
            "purpose",
            "project_description",
            "products",
            "starts_on",
            "ends_on",
            "agreement_accepted",
            "commitment_accepted",
        ):
            setattr(application, name, getattr(data, name))
        application.epsilon_requested = data.epsilon
        application.team_members = [m for m in data.team_members if m != actor]
        application.datasets = datasets
        application.level = highest([d.level for d in datasets])
        record(
            portal,
            "application.edited",
            actor=actor,
            subject=f"application:{application.id}",
            datasets={d.dataset_id: d.level.value for d in datasets},
        )
    return application


def submit(portal: Portal, *, actor: str, application_id: int) -> Application:
    """Send for review: needs the data-use agreement and the security commitment."""
    with portal.sessions.begin() as session:
        application = _visible(portal, session, actor, application_id)
        permissions.check_can_edit_application(portal.policy, session, actor, application)
        move_of(application, "submit")
        if not (application.agreement_accepted and application.commitment_accepted):
            raise InvalidInput(
                "accept the data-use agreement and the security commitment before submitting",
                zh="提交前须同意《开放利用协议》和安全承诺",
            )
        application.submitted_at = portal.clock()
        transition(portal, application, "submit", actor=actor)
        reviewers = {session.get(Dataset, d).owner for d in application.dataset_ids}  # type: ignore[union-attr]
        if needs_officer(session, application):
            reviewers |= permissions.officers_to_co_approve(portal.policy, session, application)
        notify(
            session,
            reviewers - {actor},
            zh=f"申请 #{application.id} 等待您审核",
            en=f"Application #{application.id} is waiting for your review",
            link=f"applications/{application.id}",
        )
    return application


def withdraw(portal: Portal, *, actor: str, application_id: int) -> Application:
    with portal.sessions.begin() as session:
        application = _visible(portal, session, actor, application_id)
        permissions.check_can_edit_application(portal.policy, session, actor, application)
        transition(portal, application, "withdraw", actor=actor)
    return application


def needs_officer(session: Session, application: Application) -> bool:
    """A dataset asked at L3 (or an L3 dataset) needs a security officer's approval too."""
    if any(d.level == Level.L3 for d in application.datasets):
        return True
    return any(session.get(Dataset, d).level == Level.L3 for d in application.dataset_ids)  # type: ignore[union-attr]


def approvers(session: Session, application: Application) -> dict[str, list[ReviewerRole]]:
    """Who must approve each dataset: its owner, and a security officer for an L3 one."""
    needed = {}
    for item in application.datasets:
        dataset = session.get(Dataset, item.dataset_id)
        assert dataset is not None
        roles = [ReviewerRole.OWNER]
        if Level.L3 in (item.level, dataset.level):
            roles.append(ReviewerRole.OFFICER)
        needed[item.dataset_id] = roles
    return needed


# What a dataset granted at each level gives in the workspace (English; translated on the page).
ACCESS_OF_LEVEL = {
    "L2": N_("desensitized records in the workspace (client.load)"),
    "L3": N_("differentially private statistics only (sandbox.dp), within the privacy budget"),
}


def dataset_reviews(session: Session, application: Application) -> list[dict[str, Any]]:
    """Per dataset: the level asked, who must approve it and who has in this round."""
    this_round = [
        d
        for d in application.decisions
        if d.round == current_round(application) and d.decision == Decision.APPROVE
    ]
    officers = [d.reviewer for d in this_round if d.role == ReviewerRole.OFFICER]
    rows = []
    for item in application.datasets:
        dataset = session.get(Dataset, item.dataset_id)
        assert dataset is not None
        roles = approvers(session, application)[item.dataset_id]
        approved = [
            d.reviewer
            for d in this_round
            if d.role == ReviewerRole.OWNER and d.dataset_id == item.dataset_id
        ]
        if ReviewerRole.OFFICER in roles:
            approved += officers
        rows.append(
            {
                "id": dataset.id,
                "title_zh": dataset.title_zh,
                "title_en": dataset.title_en,
                "level": item.level.value,
                "approvers": [
                    (role.value, dataset.owner if role == ReviewerRole.OWNER else "")
                    for role in roles
                ],
                "approved": approved,
            }
        )
    return rows


def current_round(application: Application) -> int:
    """Each submission opens a new round; decisions of earlier rounds no longer count."""
    returns = sum(1 for d in application.decisions if d.decision == Decision.RETURN)
    return returns + 1


def pending_approvals(
    session: Session, application: Application
) -> list[tuple[ReviewerRole, str | None]]:
    """What is still missing: (owner, dataset) per dataset, and (officer, None) for L3."""
    this_round = [d for d in application.decisions if d.round == current_round(application)]
    approved = {(d.role, d.dataset_id) for d in this_round if d.decision == Decision.APPROVE}
    missing: list[tuple[ReviewerRole, str | None]] = [
        (ReviewerRole.OWNER, ds)
        for ds in application.dataset_ids
        if (ReviewerRole.OWNER, ds) not in approved
    ]
    if needs_officer(session, application) and (ReviewerRole.OFFICER, None) not in approved:
        missing.append((ReviewerRole.OFFICER, None))
    return missing


def review(
    portal: Portal, *, actor: str, application_id: int, decision: Decision, comment: str = ""
) -> Application:
    """A data owner (for each dataset they own) or an officer decides.

    Approval needs every owner, and an officer for L3; one rejection rejects; a return sends
    the application back to its author for changes.
    """
    with portal.sessions.begin() as session:
        application = _visible(portal, session, actor, application_id)
        move_of(application, decision.value)
        if decision != Decision.APPROVE and not comment.strip():
            raise InvalidInput("say why in a comment", zh="退回或拒绝时请填写意见")
        roles = reviewer_roles(portal, session, application, actor)
        if not roles:
            raise Forbidden(
                "you have no review pending on this application (nobody reviews an application "
                "they or their team made, and the owner's and the officer's approvals of an L3 "
                "application come from two different people)",
                zh="您在此申请上没有待办的审核（申请人及其团队成员不能审核该申请；"
                "L3 申请的数据提供方审批与安全审核员审批须由两个不同的人作出）",
            )
        if decision == Decision.APPROVE:
            for requested in application.dataset_ids:
                dataset = session.get(Dataset, requested)
                assert dataset is not None
                pinned_version(dataset)  # refuses when no version's policy is confirmed
            check_budgets(session, application)
        round_ = current_round(application)
        for role, dataset_id in roles:
            session.add(
                ApplicationDecision(
                    application_id=application.id,
                    round=round_,
                    reviewer=actor,
                    role=role,
                    dataset_id=dataset_id,
                    decision=decision,
                    comment=comment,
                    created_at=portal.clock(),
                )
            )
        session.flush()
        session.refresh(application)
        record(
            portal,
            f"application.review.{decision.value}",
            actor=actor,
            subject=f"application:{application.id}",
            roles=[f"{r.value}:{d or '*'}" for r, d in roles],
            comment=comment,
        )
        if decision == Decision.APPROVE:
            if not pending_approvals(session, application):
                _finish(portal, session, application, "approve", actor)
        else:
            _finish(portal, session, application, decision.value, actor)
    return application


def budgets_for_review(session: Session, application: Application) -> dict[str, Any]:
    """What reviewers see of each dataset's privacy budget (``None``: no total set): its total,
    what all grants spent, what is left, and the applicant's share left when capped per person."""
    budgets: dict[str, Any] = {}
    for dataset_id in application.dataset_ids:
        state = ledger.dataset_balance(session, dataset_id)
        left = ledger.person_left(session, dataset_id, application.applicant)
        budgets[dataset_id] = (
            None
            if state is None
            else {
                "total": str(state.budget),
                "spent": str(state.spent),
                "remaining": str(state.remaining),
                "per_person": None if state.per_person is None else str(state.per_person),
                "applicant_remaining": None if left is None else str(left),
            }
        )
    return budgets


def check_budgets(session: Session, application: Application) -> None:
    """Refuse an approval whose ε is more than a dataset, or the applicant's share of it, has left."""
    epsilon = granted_epsilon(application)
    if epsilon <= 0:
        return
    for dataset_id in application.dataset_ids:
        state = ledger.dataset_balance(session, dataset_id)
        if state is not None and epsilon > state.remaining:
            raise InvalidTransition(
                f"the application asks for ε {epsilon} but dataset {dataset_id} has ε "
                f"{state.remaining} left of {state.budget} for all its grants: lower the ε "
                "(return the application) or ask the data owner to raise the total",
                zh=f"申请的隐私预算 ε {epsilon} 超过数据集 {dataset_id} 的剩余总预算 ε "
                f"{state.remaining}（共 {state.budget}）：请退回申请降低 ε，或请数据提供方提高总预算",
            )
        left = ledger.person_left(session, dataset_id, application.applicant)
        if left is not None and epsilon > left:
            raise InvalidTransition(
                f"the application asks for ε {epsilon} but {application.applicant} has ε {left} "
                f"left of their cap on dataset {dataset_id} across all their grants",
                zh=f"申请的隐私预算 ε {epsilon} 超过 {application.applicant} 在数据集 "
                f"{dataset_id} 上各授权合计的剩余个人额度 ε {left}",
            )


def reviewer_roles(
    portal: Portal, session: Session, application: Application, actor: str
) -> list[tuple[ReviewerRole, str | None]]:
    """The review roles the actor holds on this application in this round, as the policy allows."""
    roles: list[tuple[ReviewerRole, str | None]] = []
    for pending_role, dataset_id in pending_approvals(session, application):
        if pending_role == ReviewerRole.OWNER and dataset_id is not None:
            dataset = session.get(Dataset, dataset_id)
            assert dataset is not None
            if permissions.can_review_application_as_owner(
                portal.policy, session, actor, application, dataset
            ):
                roles.append((ReviewerRole.OWNER, dataset_id))
        elif pending_role == ReviewerRole.OFFICER and permissions.can_review_application_as_officer(
            portal.policy, session, actor, application
        ):
            roles.append((ReviewerRole.OFFICER, None))
    return roles


def _finish(
    portal: Portal, session: Session, application: Application, action: str, actor: str
) -> None:
    application.decided_at = portal.clock()
    transition(portal, application, action, actor=actor)
    notify(
        session,
        {application.applicant},
        zh=f"您的申请 #{application.id} 已{ {'approved': '批准', 'rejected': '被拒绝', 'returned': '被退回修改'}[application.status.value] }",
        en=f"Your application #{application.id} was {application.status.value}",
        link=f"applications/{application.id}",
    )
    if application.status == S.APPROVED:
        create_grant(portal, session, application=application, actor=actor)


def get_application(
    portal: Portal, session: Session, *, actor: str, application_id: int
) -> Application:
    return _visible(portal, session, actor, application_id)


def _visible(portal: Portal, session: Session, actor: str, application_id: int) -> Application:
    """The application if the actor may read it; otherwise the same 404 as an unknown id."""
    application = _get(session, application_id)
    if not permissions.can_read_application(portal.policy, session, actor, application):
        raise NotFound(f"no application #{application_id}", zh=f"没有申请 #{application_id}")
    return application


def list_applications(portal: Portal, session: Session, *, actor: str) -> list[Application]:
    """Applications the actor may read, newest first."""
    every = session.scalars(select(Application).order_by(Application.id.desc())).all()
    return [a for a in every if permissions.can_read_application(portal.policy, session, actor, a)]


def review_queue(portal: Portal, session: Session, *, actor: str) -> list[Application]:
    """Submitted applications waiting for this actor's decision."""
    waiting = session.scalars(select(Application).where(Application.status == S.SUBMITTED)).all()
    return [a for a in waiting if reviewer_roles(portal, session, a, actor)]


def _get(session: Session, application_id: int) -> Application:
    application = session.get(Application, application_id)
    if application is None:
        raise NotFound(f"no application #{application_id}", zh=f"没有申请 #{application_id}")
    return application
