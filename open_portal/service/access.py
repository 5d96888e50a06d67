"""Build the policy request for each kind of resource and check it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

import policies
from open_portal.models import Application, Dataset, Grant
from policies import Resource, Subject


def domain_of(dataset: Dataset) -> str:
    """The Casbin domain of a dataset: its publishing department."""
    return f"dept:{dataset.publisher}"


def dataset_resource(dataset: Dataset, user: str, kind: str = "catalog") -> Resource:
    return Resource(
        kind,
        domain=domain_of(dataset),
        attrs={"level": dataset.level.value, "is_owner": bool(user) and dataset.owner == user},
    )


def application_resource(
    session: Session, application: Application, user: str, domain: str = "*"
) -> Resource:
    owners = {session.get(Dataset, d).owner for d in application.dataset_ids}  # type: ignore[union-attr]
    return Resource(
        "application",
        domain=domain,
        attrs={
            "kind": application.kind.value,
            "is_applicant": application.applicant == user,
            "owns_a_dataset": user in owners,
        },
    )


def grant_resource(session: Session, grant: Grant, user: str, now: datetime) -> Resource:
    owners = {session.get(Dataset, d.dataset_id).owner for d in grant.datasets}  # type: ignore[union-attr]
    return Resource(
        "grant",
        attrs={
            "is_member": user in grant.member_names,
            "is_holder": grant.holder == user,
            "grant_usable": grant.is_usable(now),
            "owns_a_dataset": user in owners,
        },
    )


def check(user: str, action: str, resource: Resource) -> None:
    policies.check_can(Subject(user), action, resource)


def allowed(user: str, action: str, resource: Resource) -> bool:
    return policies.can(Subject(user), action, resource)
