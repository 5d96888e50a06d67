"""Applications as reviewers and applicants see them: pages and the JSON of the API."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from open_portal import permissions
from open_portal.models import ApplicantKind, Application, ApplicationStatus, Dataset, Level
from open_portal.service import applications as service
from open_portal.service import exports, queues
from open_portal.service.context import Portal
from open_portal.service.grants import granted_epsilon
from open_portal.web import render


class DecisionOut(BaseModel):
    reviewer: str
    role: str
    dataset: str | None
    decision: str
    comment: str
    round: int


class DatasetBudgetOut(BaseModel):
    """A dataset's total privacy budget as reviewers see it (ε as exact decimals)."""

    total: str
    spent: str
    remaining: str
    per_person: str | None
    applicant_remaining: str | None


class ApplicationOut(BaseModel):
    id: int
    applicant: str
    kind: str
    organisation: str
    organisation_uscc: str
    datasets: list[str]
    levels: dict[str, str]
    purpose: str
    level: str
    starts_on: date
    ends_on: date
    status: str
    team_members: list[str]
    epsilon_requested: str
    epsilon_granted: str
    dataset_budgets: dict[str, DatasetBudgetOut | None]
    decisions: list[DecisionOut]


def application_out(session: Session, app: Application) -> ApplicationOut:
    return ApplicationOut(
        id=app.id,
        applicant=app.applicant,
        kind=app.kind.value,
        organisation=app.organisation,
        organisation_uscc=app.organisation_uscc,
        datasets=app.dataset_ids,
        levels={d.dataset_id: d.level.value for d in app.datasets},
        purpose=app.purpose,
        level=app.level.value,
        starts_on=app.starts_on,
        ends_on=app.ends_on,
        status=app.status.value,
        team_members=list(app.team_members),
        epsilon_requested=app.epsilon_requested,
        epsilon_granted=str(granted_epsilon(app)),
        dataset_budgets=service.budgets_for_review(session, app),
        decisions=[
            DecisionOut(
                reviewer=d.reviewer,
                role=d.role.value,
                dataset=d.dataset_id,
                decision=d.decision.value,
                comment=d.comment,
                round=d.round,
            )
            for d in app.decisions
        ],
    )


def shown(portal: Portal, *, actor: str, application_id: int) -> ApplicationOut:
    """One application as the API returns it (after a change, as it is now)."""
    with portal.sessions() as session:
        app = service.get_application(portal, session, actor=actor, application_id=application_id)
        return application_out(session, app)


def listed(portal: Portal, *, actor: str) -> list[ApplicationOut]:
    with portal.sessions() as session:
        return [
            application_out(session, a)
            for a in service.list_applications(portal, session, actor=actor)
        ]


# ---- pages -------------------------------------------------------------------------------------


def list_page(request: Request, portal: Portal, *, actor: str) -> HTMLResponse:
    with portal.sessions() as session:
        items = service.list_applications(portal, session, actor=actor)
        return render(request, "applications.html", items=items)


def form_page(
    request: Request,
    portal: Portal,
    *,
    actor: str,
    dataset: str,
    values: dict[str, Any] | None = None,
    error: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    """The application form: empty, or again with what was typed and what is wrong."""
    with portal.sessions() as session:
        datasets = [
            d
            for d in session.scalars(select(Dataset).order_by(Dataset.id))
            if d.level in (Level.L2, Level.L3)
            and permissions.can_read_dataset(portal.policy, actor, d)
        ]
        person = permissions.can_apply(portal.policy, session, actor, ApplicantKind.PERSON)
        organisation = permissions.can_apply(
            portal.policy, session, actor, ApplicantKind.ORGANISATION
        )
        values = values or {}
        kind = "organisation" if organisation and not person else "person"
        return render(
            request,
            "application_form.html",
            status_code=status_code,
            datasets=datasets,
            chosen=set(values.get("dataset_ids", [dataset])),
            kind=values.get("kind", kind),
            today=values.get("starts_on", date.today()),
            later=values.get("ends_on", date.today() + timedelta(days=90)),
            level_access=service.ACCESS_OF_LEVEL,
            values=values,
            error=error,
        )


def application_page(
    request: Request, portal: Portal, *, actor: str, application_id: int
) -> HTMLResponse:
    with portal.sessions() as session:
        app = service.get_application(portal, session, actor=actor, application_id=application_id)
        return render(
            request,
            "application.html",
            app=app,
            pending=service.pending_approvals(session, app),
            rights={"edit": permissions.can_edit_application(portal.policy, session, actor, app)},
            my_roles=service.reviewer_roles(portal, session, app, actor)
            if app.status == ApplicationStatus.SUBMITTED
            else [],
            asked=service.dataset_reviews(session, app),
            level_access=service.ACCESS_OF_LEVEL,
            budgets=service.budgets_for_review(session, app),
            epsilon_granted=granted_epsilon(app),
        )


def review_queue_page(request: Request, portal: Portal, *, actor: str) -> HTMLResponse:
    with portal.sessions() as session:
        waiting = queues.reviews(portal, session, actor=actor)
        return render(
            request,
            "reviews.html",
            waiting=waiting,
            summaries={r.id: exports.summary(r) for r in waiting.exports},
        )
