"""Who may do what: the one place the portal decides access.

Each action is a pair, as in OpenSAFELY Airlock's ``permissions.py``: ``can_X`` answers True or
False, ``check_can_X`` raises ``AccessDenied``. Both ask the portal's Casbin policy (the
``Policy`` of ``portal.policy``: ``policies/model.conf`` and ``policies/default_policy.csv``)
about a resource whose attributes are built here: who applied, who is a member, whether the
grant is usable now. A resource is asked about in each domain it belongs to (the platform ``*``
and the departments publishing its datasets); a role held in any of them can allow the action.

Routes, the service layer, the hub's spawn decision, DP, exports, destruction and the pages call
these functions and decide nothing themselves (``tests/unit/policies/test_one_decider.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from open_portal.models import (
    ApplicantKind,
    Application,
    Dataset,
    DatasetVersion,
    ExportRequest,
    ExportStatus,
    Grant,
)
from policies import AccessDenied, Policy, Resource, Subject

# states in which the reviewers of an export request may read its held copies: from its
# submission on, never while its requesters assemble it, nor once it is rejected or withdrawn
HELD_READABLE = frozenset(
    {
        ExportStatus.SUBMITTED,
        ExportStatus.PARTIALLY_REVIEWED,
        ExportStatus.REVIEWED,
        ExportStatus.RETURNED,
        ExportStatus.APPROVED,
        ExportStatus.RELEASED,
    }
)


# ---- building the resources the policy is asked about ---------------------------------------


def domain_of(dataset: Dataset) -> str:
    """The Casbin domain of a dataset: its publishing department."""
    return f"dept:{dataset.publisher}"


def confirmed_version(dataset: Dataset) -> DatasetVersion | None:
    """The newest version whose desensitization policy the owner confirmed, if any."""
    confirmed = [v for v in dataset.versions if v.policy_confirmed]
    return confirmed[-1] if confirmed else None


def _datasets(session: Session, ids: Iterable[str]) -> list[Dataset]:
    found = [session.get(Dataset, i) for i in ids]
    return [d for d in found if d is not None]


def _domains(datasets: Sequence[Dataset]) -> list[str]:
    return ["*", *sorted({domain_of(d) for d in datasets})]


def _dataset(kind: str, dataset: Dataset, user: str) -> list[Resource]:
    """A dataset as the policy sees it: its level, whether the user owns it, and whether it is
    published (a version's policy confirmed; until then it is a draft only its owner sees)."""
    attrs = {
        "level": dataset.level.value,
        "is_owner": bool(user) and dataset.owner == user,
        "published": confirmed_version(dataset) is not None,
    }
    return [Resource(kind, domain=d, attrs=attrs) for d in ("*", domain_of(dataset))]


def _application(
    session: Session, application: Application, user: str, domain: str | None = None
) -> list[Resource]:
    datasets = _datasets(session, application.dataset_ids)
    attrs = {
        "kind": application.kind.value,
        "is_applicant": application.applicant == user,
        "is_team_member": user in application.team_members,
        "owns_a_dataset": user in {d.owner for d in datasets},
    }
    domains = [domain] if domain else _domains(datasets)
    return [Resource("application", domain=d, attrs=attrs) for d in domains]


def _grant(
    session: Session, grant: Grant, user: str, now: datetime, kind: str = "grant", **extra: Any
) -> list[Resource]:
    """A grant as the policy sees it; ``extra`` adds attributes of one action."""
    datasets = _datasets(session, [d.dataset_id for d in grant.datasets])
    attrs = {
        "is_member": user in grant.member_names,
        "is_invited": user in grant.invited_names,
        "is_holder": grant.holder == user,
        "grant_usable": grant.is_usable(now),
        "owns_a_dataset": user in {d.owner for d in datasets},
        "started_destruction": False,
        **extra,
    }
    return [Resource(kind, domain=d, attrs=attrs) for d in _domains(datasets)]


def _export_on(
    session: Session, grant: Grant, user: str, now: datetime, author: str
) -> list[Resource]:
    """An export request: the grant's attributes and whether the user wrote it."""
    return _grant(session, grant, user, now, "export", is_author=author == user)


def _export(session: Session, request: ExportRequest, user: str, now: datetime) -> list[Resource]:
    grant = session.get(Grant, request.grant_id)
    if grant is None:  # the foreign key makes this impossible; deny rather than guess
        return []
    attrs = _export_on(session, grant, user, now, request.author)
    held = request.status in HELD_READABLE
    return [Resource(r.kind, r.domain, {**r.attrs, "held_readable": held}) for r in attrs]


def _allowed(policy: Policy, user: str, action: str, resources: Sequence[Resource]) -> bool:
    """Whether the policy allows the action in any of the resource's domains."""
    return any(policy.can(Subject(user), action, r) for r in resources)


def _user_domains(policy: Policy, user: str) -> list[str]:
    """The platform and every domain the user holds a role in."""
    return ["*", *sorted({d for _, d in policy.role_assignments(user)} - {"*"})]


def _require(allowed: bool, user: str, action: str, kind: str) -> None:
    if not allowed:
        raise AccessDenied(user, action, kind)


# ---- the platform ---------------------------------------------------------------------------


def can_read_audit(policy: Policy, user: str) -> bool:
    """The audit log's pages and searches."""
    return policy.can(Subject(user), "read", Resource("audit"))


def check_can_read_audit(policy: Policy, user: str) -> None:
    _require(can_read_audit(policy, user), user, "read", "audit")


def can_manage_platform(policy: Policy, user: str) -> bool:
    """Accounts, roles and harvest sources."""
    return policy.can(Subject(user), "manage", Resource("admin"))


def check_can_manage_platform(policy: Policy, user: str) -> None:
    _require(can_manage_platform(policy, user), user, "manage", "admin")


# ---- the catalog ----------------------------------------------------------------------------


def can_read_dataset(policy: Policy, user: str, dataset: Dataset) -> bool:
    """See a dataset at all (L4 and drafts answer as unknown ids to those who may not)."""
    return _allowed(policy, user, "read", _dataset("catalog", dataset, user))


def check_can_read_dataset(policy: Policy, user: str, dataset: Dataset) -> None:
    _require(can_read_dataset(policy, user, dataset), user, "read", "catalog")


def can_read_assessment(policy: Policy, user: str, dataset: Dataset) -> bool:
    """Read the security assessment of a confirmed policy: anyone for an L1 dataset; its
    owner, officers and admins for the other levels."""
    return _allowed(policy, user, "read", _dataset("assessment", dataset, user))


def check_can_read_assessment(policy: Policy, user: str, dataset: Dataset) -> None:
    _require(can_read_assessment(policy, user, dataset), user, "read", "assessment")


def can_download_open_release(policy: Policy, user: str, dataset: Dataset) -> bool:
    """Download the published release of an open (L1) dataset."""
    return _allowed(policy, user, "download", _dataset("release", dataset, user))


def check_can_download_open_release(policy: Policy, user: str, dataset: Dataset) -> None:
    _require(can_download_open_release(policy, user, dataset), user, "download", "release")


def can_publish_dataset(policy: Policy, user: str, publisher: str | None = None) -> bool:
    """Publish a dataset for ``publisher`` (a department); without one, for any department."""
    domains = [f"dept:{publisher}"] if publisher else _user_domains(policy, user)
    return _allowed(policy, user, "publish", [Resource("dataset", domain=d) for d in domains])


def check_can_publish_dataset(policy: Policy, user: str, publisher: str | None = None) -> None:
    _require(can_publish_dataset(policy, user, publisher), user, "publish", "dataset")


def publishing_departments(policy: Policy, user: str) -> list[str]:
    """The departments (codes) the user may publish datasets for."""
    codes = {d.removeprefix("dept:") for _, d in policy.role_assignments(user) if d != "*"}
    return sorted(c for c in codes if can_publish_dataset(policy, user, c))


def can_update_dataset(policy: Policy, user: str, dataset: Dataset) -> bool:
    """New versions, policy confirmation, budgets: the dataset's owner (and admins)."""
    return _allowed(policy, user, "update", _dataset("dataset", dataset, user))


def check_can_update_dataset(policy: Policy, user: str, dataset: Dataset) -> None:
    _require(can_update_dataset(policy, user, dataset), user, "update", "dataset")


# ---- applications ---------------------------------------------------------------------------


def can_apply(
    policy: Policy,
    session: Session,
    user: str,
    kind: ApplicantKind,
    dataset_ids: Sequence[str] = (),
) -> bool:
    """Apply as a person (researchers) or as an organisation (operators)."""
    datasets = _datasets(session, dataset_ids)
    attrs = {"kind": kind.value, "is_applicant": True, "is_team_member": False}
    attrs["owns_a_dataset"] = any(d.owner == user for d in datasets)
    resources = [Resource("application", domain=d, attrs=attrs) for d in _domains(datasets)]
    return _allowed(policy, user, "create", resources)


def check_can_apply(
    policy: Policy,
    session: Session,
    user: str,
    kind: ApplicantKind,
    dataset_ids: Sequence[str] = (),
) -> None:
    allowed = can_apply(policy, session, user, kind, dataset_ids)
    _require(allowed, user, "create", "application")


def can_read_application(
    policy: Policy, session: Session, user: str, application: Application
) -> bool:
    return _allowed(policy, user, "read", _application(session, application, user))


def check_can_read_application(
    policy: Policy, session: Session, user: str, application: Application
) -> None:
    _require(can_read_application(policy, session, user, application), user, "read", "application")


def can_edit_application(
    policy: Policy, session: Session, user: str, application: Application
) -> bool:
    """Edit, submit and withdraw: the applicant only."""
    return _allowed(policy, user, "edit", _application(session, application, user))


def check_can_edit_application(
    policy: Policy, session: Session, user: str, application: Application
) -> None:
    _require(can_edit_application(policy, session, user, application), user, "edit", "application")


def can_review_application_as_owner(
    policy: Policy, session: Session, user: str, application: Application, dataset: Dataset
) -> bool:
    """Decide for ``dataset``: its owner, unless they applied or are on the team."""
    if dataset.owner != user:
        return False
    resources = _application(session, application, user, domain=domain_of(dataset))
    return _allowed(policy, user, "review_as_owner", resources)


def check_can_review_application_as_owner(
    policy: Policy, session: Session, user: str, application: Application, dataset: Dataset
) -> None:
    allowed = can_review_application_as_owner(policy, session, user, application, dataset)
    _require(allowed, user, "review_as_owner", "application")


def can_review_application_as_officer(
    policy: Policy, session: Session, user: str, application: Application
) -> bool:
    """Co-approve an L3 application: an officer who neither applied, nor is on the team, nor
    owns one of its datasets (so the two approvals come from two people)."""
    return _allowed(policy, user, "review_as_officer", _application(session, application, user))


def check_can_review_application_as_officer(
    policy: Policy, session: Session, user: str, application: Application
) -> None:
    allowed = can_review_application_as_officer(policy, session, user, application)
    _require(allowed, user, "review_as_officer", "application")


def can_review_applications(policy: Policy, user: str) -> bool:
    """Whether the user reviews applications at all (the review queue): as the owner of a
    dataset in a department they hold a role in, or as an officer."""
    neutral = {"kind": "person", "is_applicant": False, "is_team_member": False}
    domains = _user_domains(policy, user)
    owner = [
        Resource("application", domain=d, attrs={**neutral, "owns_a_dataset": True})
        for d in domains
    ]
    officer = [Resource("application", attrs={**neutral, "owns_a_dataset": False})]
    return _allowed(policy, user, "review_as_owner", owner) or _allowed(
        policy, user, "review_as_officer", officer
    )


def check_can_review_applications(policy: Policy, user: str) -> None:
    _require(can_review_applications(policy, user), user, "review", "application")


def officers_to_co_approve(policy: Policy, session: Session, application: Application) -> set[str]:
    """The officers who may co-approve this application (whom to tell it waits)."""
    return {
        name
        for name in policy.users_with_role("officer")
        if can_review_application_as_officer(policy, session, name, application)
    }


# ---- grants ---------------------------------------------------------------------------------


def can_read_grant(
    policy: Policy, session: Session, user: str, grant: Grant, now: datetime
) -> bool:
    return _allowed(policy, user, "read", _grant(session, grant, user, now))


def check_can_read_grant(
    policy: Policy, session: Session, user: str, grant: Grant, now: datetime
) -> None:
    _require(can_read_grant(policy, session, user, grant, now), user, "read", "grant")


def can_join_grant(
    policy: Policy, session: Session, user: str, grant: Grant, now: datetime
) -> bool:
    """Accept or decline the invitation: the invited team member, nobody else."""
    return _allowed(policy, user, "join", _grant(session, grant, user, now))


def check_can_join_grant(
    policy: Policy, session: Session, user: str, grant: Grant, now: datetime
) -> None:
    _require(can_join_grant(policy, session, user, grant, now), user, "join", "grant")


def can_use_grant(policy: Policy, session: Session, user: str, grant: Grant, now: datetime) -> bool:
    """Work with the grant's data: open its workspace (the hub's spawn decision), hold a
    workspace credential, run DP queries. A member, while the grant is usable."""
    return _allowed(policy, user, "use", _grant(session, grant, user, now))


def check_can_use_grant(
    policy: Policy, session: Session, user: str, grant: Grant, now: datetime
) -> None:
    _require(can_use_grant(policy, session, user, grant, now), user, "use", "grant")


def can_suspend_grant(
    policy: Policy, session: Session, user: str, grant: Grant, now: datetime
) -> bool:
    return _allowed(policy, user, "suspend", _grant(session, grant, user, now))


def check_can_suspend_grant(
    policy: Policy, session: Session, user: str, grant: Grant, now: datetime
) -> None:
    _require(can_suspend_grant(policy, session, user, grant, now), user, "suspend", "grant")


def can_reinstate_grant(
    policy: Policy, session: Session, user: str, grant: Grant, now: datetime
) -> bool:
    return _allowed(policy, user, "reinstate", _grant(session, grant, user, now))


def check_can_reinstate_grant(
    policy: Policy, session: Session, user: str, grant: Grant, now: datetime
) -> None:
    _require(can_reinstate_grant(policy, session, user, grant, now), user, "reinstate", "grant")


def can_revoke_grant(
    policy: Policy, session: Session, user: str, grant: Grant, now: datetime
) -> bool:
    """Officers, and the owners of one of its datasets."""
    return _allowed(policy, user, "revoke", _grant(session, grant, user, now))


def check_can_revoke_grant(
    policy: Policy, session: Session, user: str, grant: Grant, now: datetime
) -> None:
    _require(can_revoke_grant(policy, session, user, grant, now), user, "revoke", "grant")


def can_end_grant(policy: Policy, session: Session, user: str, grant: Grant, now: datetime) -> bool:
    """End the grant early: its holder."""
    return _allowed(policy, user, "end", _grant(session, grant, user, now))


def check_can_end_grant(
    policy: Policy, session: Session, user: str, grant: Grant, now: datetime
) -> None:
    _require(can_end_grant(policy, session, user, grant, now), user, "end", "grant")


def can_start_destruction(
    policy: Policy, session: Session, user: str, grant: Grant, now: datetime
) -> bool:
    """Ask for the grant's destruction: its holder or an officer."""
    return _allowed(policy, user, "request_destruction", _grant(session, grant, user, now))


def check_can_start_destruction(
    policy: Policy, session: Session, user: str, grant: Grant, now: datetime
) -> None:
    allowed = can_start_destruction(policy, session, user, grant, now)
    _require(allowed, user, "request_destruction", "grant")


def can_confirm_destruction(
    policy: Policy, session: Session, user: str, grant: Grant, now: datetime, started_by: str
) -> bool:
    """Confirm (and so run) a destruction: an officer other than the one who started it, and not
    on the grant (a member or an invitee)."""
    resources = _grant(session, grant, user, now, started_destruction=started_by == user)
    return _allowed(policy, user, "destroy", resources)


def check_can_confirm_destruction(
    policy: Policy, session: Session, user: str, grant: Grant, now: datetime, started_by: str
) -> None:
    allowed = can_confirm_destruction(policy, session, user, grant, now, started_by)
    _require(allowed, user, "destroy", "grant")


def officers_to_confirm_destruction(
    policy: Policy, session: Session, grant: Grant, now: datetime, started_by: str
) -> set[str]:
    """The officers who may confirm a destruction ``started_by`` started (whom to tell)."""
    return {
        name
        for name in policy.users_with_role("officer")
        if can_confirm_destruction(policy, session, name, grant, now, started_by)
    }


# ---- export requests ------------------------------------------------------------------------


def can_request_export(
    policy: Policy, session: Session, user: str, grant: Grant, now: datetime
) -> bool:
    """Start an export request on a grant: a member, while the grant is usable."""
    return _allowed(policy, user, "create", _export_on(session, grant, user, now, user))


def check_can_request_export(
    policy: Policy, session: Session, user: str, grant: Grant, now: datetime
) -> None:
    _require(can_request_export(policy, session, user, grant, now), user, "create", "export")


def can_read_export(
    policy: Policy, session: Session, user: str, request: ExportRequest, now: datetime
) -> bool:
    return _allowed(policy, user, "read", _export(session, request, user, now))


def check_can_read_export(
    policy: Policy, session: Session, user: str, request: ExportRequest, now: datetime
) -> None:
    _require(can_read_export(policy, session, user, request, now), user, "read", "export")


def can_edit_export(
    policy: Policy, session: Session, user: str, request: ExportRequest, now: datetime
) -> bool:
    """Add and update files, justify, answer checks, submit, withdraw: the grant's members."""
    return _allowed(policy, user, "edit", _export(session, request, user, now))


def check_can_edit_export(
    policy: Policy, session: Session, user: str, request: ExportRequest, now: datetime
) -> None:
    _require(can_edit_export(policy, session, user, request, now), user, "edit", "export")


def can_review_export(
    policy: Policy, session: Session, user: str, request: ExportRequest, now: datetime
) -> bool:
    """Vote and complete a review: an officer who neither wrote the request nor is a member."""
    return _allowed(policy, user, "review", _export(session, request, user, now))


def check_can_review_export(
    policy: Policy, session: Session, user: str, request: ExportRequest, now: datetime
) -> None:
    _require(can_review_export(policy, session, user, request, now), user, "review", "export")


def can_decide_export(
    policy: Policy, session: Session, user: str, request: ExportRequest, now: datetime
) -> bool:
    """Approve, reject, return and release: the same independent officers."""
    return _allowed(policy, user, "decide", _export(session, request, user, now))


def check_can_decide_export(
    policy: Policy, session: Session, user: str, request: ExportRequest, now: datetime
) -> None:
    _require(can_decide_export(policy, session, user, request, now), user, "decide", "export")


def can_download_export(
    policy: Policy, session: Session, user: str, request: ExportRequest, now: datetime
) -> bool:
    """Download released files: the grant's members only."""
    return _allowed(policy, user, "download", _export(session, request, user, now))


def check_can_download_export(
    policy: Policy, session: Session, user: str, request: ExportRequest, now: datetime
) -> None:
    allowed = can_download_export(policy, session, user, request, now)
    _require(allowed, user, "download", "export")


def can_view_held_files(
    policy: Policy, session: Session, user: str, request: ExportRequest, now: datetime
) -> bool:
    """Read the held copies (bytes, previews, check details, workspace text) of a request:
    only an officer who may review this very request, and only once it was submitted.
    Requesters and members get bytes only from the release; ``admin`` never."""
    return _allowed(policy, user, "read_held", _export(session, request, user, now))


def check_can_view_held_files(
    policy: Policy, session: Session, user: str, request: ExportRequest, now: datetime
) -> None:
    allowed = can_view_held_files(policy, session, user, request, now)
    _require(allowed, user, "read_held", "export")


def officers_to_review_export(
    policy: Policy, session: Session, request: ExportRequest, now: datetime
) -> set[str]:
    """The officers who may review this request (whom to tell it waits)."""
    return {
        name
        for name in policy.users_with_role("officer")
        if can_review_export(policy, session, name, request, now)
    }


# ---- what pages show ------------------------------------------------------------------------


@dataclass(frozen=True)
class NavRights:
    """What the navigation of every page offers its viewer."""

    reviews: bool = False
    publish: bool = False
    audit: bool = False
    admin: bool = False


def nav_rights(policy: Policy, user: str) -> NavRights:
    if not user:
        return NavRights()
    return NavRights(
        reviews=can_review_applications(policy, user),
        publish=can_publish_dataset(policy, user),
        audit=can_read_audit(policy, user),
        admin=can_manage_platform(policy, user),
    )


def can_review_exports(policy: Policy, user: str) -> bool:
    """Whether the user reviews export requests at all (the export review queue)."""
    neutral = {"is_author": False, "is_member": False, "is_invited": False, "is_holder": False}
    attrs = {**neutral, "grant_usable": True, "owns_a_dataset": False, "started_destruction": False}
    return policy.can(Subject(user), "review", Resource("export", attrs=attrs))


def check_can_review_exports(policy: Policy, user: str) -> None:
    _require(can_review_exports(policy, user), user, "review", "export")


def grant_rights(
    policy: Policy, session: Session, user: str, grant: Grant, now: datetime
) -> dict[str, bool]:
    """What the grant page offers its viewer (the service checks each again when done)."""
    return {
        "use": can_use_grant(policy, session, user, grant, now),
        "join": can_join_grant(policy, session, user, grant, now),
        "suspend": can_suspend_grant(policy, session, user, grant, now),
        "reinstate": can_reinstate_grant(policy, session, user, grant, now),
        "revoke": can_revoke_grant(policy, session, user, grant, now),
        "end": can_end_grant(policy, session, user, grant, now),
        "destruction": can_start_destruction(policy, session, user, grant, now),
    }


def export_rights(
    policy: Policy, session: Session, user: str, request: ExportRequest, now: datetime
) -> dict[str, bool]:
    """What an export request's page offers its viewer."""
    return {
        "edit": can_edit_export(policy, session, user, request, now),
        "review": can_review_export(policy, session, user, request, now),
        "decide": can_decide_export(policy, session, user, request, now),
        "download": can_download_export(policy, session, user, request, now),
        "held": can_view_held_files(policy, session, user, request, now),
    }
