"""Build the policy requests for each kind of resource and check them.

A resource is asked about in every domain it belongs to: the platform (``*``) and the
departments publishing its datasets; a role held in any of them can allow the action.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

import policies
from open_portal.models import Application, Dataset, DatasetVersion, Grant
from policies import AccessDenied, Resource, Subject


def domain_of(dataset: Dataset) -> str:
    """The Casbin domain of a dataset: its publishing department."""
    return f"dept:{dataset.publisher}"


def _datasets(session: Session, ids: Sequence[str]) -> list[Dataset]:
    found = [session.get(Dataset, i) for i in ids]
    return [d for d in found if d is not None]


def _domains(datasets: Sequence[Dataset]) -> list[str]:
    return ["*", *sorted({domain_of(d) for d in datasets})]


def confirmed_version(dataset: Dataset) -> DatasetVersion | None:
    """The newest version whose desensitization policy the owner confirmed, if any."""
    confirmed = [v for v in dataset.versions if v.policy_confirmed]
    return confirmed[-1] if confirmed else None


def dataset_resource(dataset: Dataset, user: str, kind: str = "catalog") -> list[Resource]:
    """A dataset as the policy sees it: its level, whether the user owns it, and whether it is
    published (a version's policy confirmed; until then it is a draft only its owner sees)."""
    attrs = {
        "level": dataset.level.value,
        "is_owner": bool(user) and dataset.owner == user,
        "published": confirmed_version(dataset) is not None,
    }
    return [Resource(kind, domain=d, attrs=attrs) for d in ("*", domain_of(dataset))]


def application_resource(
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


def grant_resource(
    session: Session, grant: Grant, user: str, now: datetime, **extra: Any
) -> list[Resource]:
    """A grant as the policy sees it; ``extra`` adds attributes of one action (e.g. who started
    a destruction)."""
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
    return [Resource("grant", domain=d, attrs=attrs) for d in _domains(datasets)]


def allowed(user: str, action: str, resources: Resource | Sequence[Resource]) -> bool:
    """Whether the policy allows the action in any of the resource's domains."""
    if isinstance(resources, Resource):
        resources = [resources]
    return any(policies.can(Subject(user), action, r) for r in resources)


def check(user: str, action: str, resources: Resource | Sequence[Resource]) -> None:
    """Raise ``AccessDenied`` unless some domain of the resource allows the action."""
    if isinstance(resources, Resource):
        resources = [resources]
    if not allowed(user, action, resources):
        raise AccessDenied(user, action, resources[0].kind)
