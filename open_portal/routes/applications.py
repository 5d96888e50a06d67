"""Applications: the form, my applications, one application with its decisions, the review queue."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from open_portal.auth import Identity
from open_portal.models import ApplicantKind, Application, Dataset, Decision, Level
from open_portal.params import RowId, Word
from open_portal.schemas import (
    LINE_MAX,
    LIST_MAX,
    NAME_MAX,
    TEXT_MAX,
    ApplicationInput,
    CommentInput,
    Name,
)
from open_portal.service import applications as service
from open_portal.service import exports, queues
from open_portal.service.access import allowed, dataset_resource
from open_portal.service.grants import granted_epsilon
from open_portal.web import CsrfDep, Guard, PortalDep, render

router = APIRouter()
# Whether the caller is the applicant, an owner of a dataset or an officer is decided per application.
MemberDep = Annotated[Identity, Depends(Guard("read", "application", per_resource=True))]
CreatorDep = Annotated[Identity, Depends(Guard("create", "application", per_resource=True))]
ReviewerDep = Annotated[Identity, Depends(Guard("review", "application", per_resource=True))]


def application_view(app: Application, session: Session | None = None) -> dict[str, Any]:
    return {
        "id": app.id,
        "applicant": app.applicant,
        "kind": app.kind.value,
        "organisation": app.organisation,
        "organisation_uscc": app.organisation_uscc,
        "datasets": app.dataset_ids,
        "levels": {d.dataset_id: d.level.value for d in app.datasets},
        "purpose": app.purpose,
        "level": app.level.value,
        "starts_on": app.starts_on.isoformat(),
        "ends_on": app.ends_on.isoformat(),
        "status": app.status.value,
        "team_members": list(app.team_members),
        "epsilon_requested": app.epsilon_requested,
        "epsilon_granted": str(granted_epsilon(app)),
        "dataset_budgets": service.budgets_for_review(session, app) if session is not None else {},
        "decisions": [
            {
                "reviewer": d.reviewer,
                "role": d.role.value,
                "dataset": d.dataset_id,
                "decision": d.decision.value,
                "comment": d.comment,
                "round": d.round,
            }
            for d in app.decisions
        ],
    }


# ---- pages -------------------------------------------------------------------------------


@router.get("/applications", response_class=HTMLResponse)
def my_applications(request: Request, portal: PortalDep, user: MemberDep) -> HTMLResponse:
    with portal.sessions() as session:
        items = service.list_applications(portal, session, actor=user.name)
        return render(request, "applications.html", items=items)


@router.get("/applications/new", response_class=HTMLResponse)
def new_application(
    request: Request,
    portal: PortalDep,
    user: CreatorDep,
    dataset: Annotated[str, Query(max_length=NAME_MAX)] = "",
) -> HTMLResponse:
    with portal.sessions() as session:
        datasets = [
            d
            for d in session.scalars(select(Dataset).order_by(Dataset.id))
            if d.level in (Level.L2, Level.L3)
            and allowed(user.name, "read", dataset_resource(d, user.name))
        ]
        roles = portal.policy.all_roles(user.name)
        return render(
            request,
            "application_form.html",
            datasets=datasets,
            chosen={dataset},
            kind="organisation" if "operator" in roles and "researcher" not in roles else "person",
            today=date.today(),
            later=date.today() + timedelta(days=90),
            level_access=service.ACCESS_OF_LEVEL,
        )


@router.post("/applications", dependencies=[CsrfDep])
def create_from_form(
    request: Request,
    portal: PortalDep,
    user: CreatorDep,
    dataset_ids: Annotated[list[Name], Form(max_length=LIST_MAX)],
    purpose: Annotated[str, Form(max_length=TEXT_MAX)],
    starts_on: Annotated[date, Form()],
    ends_on: Annotated[date, Form()],
    level: Annotated[Level | None, Form()] = None,
    kind: Annotated[ApplicantKind, Form()] = ApplicantKind.PERSON,
    project_description: Annotated[str, Form(max_length=TEXT_MAX)] = "",
    products: Annotated[str, Form(max_length=TEXT_MAX)] = "",
    team_members: Annotated[str, Form(max_length=TEXT_MAX)] = "",
    epsilon: Annotated[str, Form(max_length=32)] = "0",
    organisation: Annotated[str, Form(max_length=LINE_MAX)] = "",
    organisation_uscc: Annotated[str, Form(max_length=32)] = "",
    agreement_accepted: Annotated[bool, Form()] = False,
    commitment_accepted: Annotated[bool, Form()] = False,
    action: Annotated[str, Form(max_length=NAME_MAX)] = "draft",
) -> RedirectResponse:
    data = ApplicationInput(
        kind=kind,
        dataset_ids=dataset_ids,
        purpose=purpose,
        project_description=project_description,
        products=products,
        team_members=[m for m in team_members.replace("，", ",").split(",")],
        level=level,
        starts_on=starts_on,
        ends_on=ends_on,
        epsilon=epsilon,
        organisation=organisation,
        organisation_uscc=organisation_uscc,
        agreement_accepted=agreement_accepted,
        commitment_accepted=commitment_accepted,
    )
    application = service.create_application(portal, actor=user.name, data=data)
    if action == "submit":
        service.submit(portal, actor=user.name, application_id=application.id)
    return RedirectResponse(
        f"{request.app.state.prefix}/applications/{application.id}", status_code=303
    )


@router.get("/applications/{application_id}", response_class=HTMLResponse)
def application_page(
    request: Request, portal: PortalDep, user: MemberDep, application_id: RowId
) -> HTMLResponse:
    with portal.sessions() as session:
        app = service.get_application(
            portal, session, actor=user.name, application_id=application_id
        )
        return render(
            request,
            "application.html",
            app=app,
            pending=service.pending_approvals(session, app),
            my_roles=service.reviewer_roles(portal, session, app, user.name)
            if app.status.value == "submitted"
            else [],
            asked=service.dataset_reviews(session, app),
            level_access=service.ACCESS_OF_LEVEL,
            budgets=service.budgets_for_review(session, app),
            epsilon_granted=granted_epsilon(app),
        )


@router.post("/applications/{application_id}/{action}", dependencies=[CsrfDep])
def act_from_form(
    request: Request,
    portal: PortalDep,
    user: MemberDep,
    application_id: RowId,
    action: Word,
    comment: Annotated[str, Form(max_length=TEXT_MAX)] = "",
) -> RedirectResponse:
    _act(portal, user, application_id, action, comment)
    return RedirectResponse(
        f"{request.app.state.prefix}/applications/{application_id}", status_code=303
    )


@router.get("/reviews", response_class=HTMLResponse)
def review_queue(request: Request, portal: PortalDep, user: ReviewerDep) -> HTMLResponse:
    with portal.sessions() as session:
        waiting = queues.reviews(portal, session, actor=user.name)
        return render(
            request,
            "reviews.html",
            waiting=waiting,
            summaries={r.id: exports.summary(r) for r in waiting.exports},
        )


# ---- JSON API ----------------------------------------------------------------------------


def _act(
    portal: Any, user: Identity, application_id: int, action: str, comment: str
) -> Application:
    if action == "submit":
        return service.submit(portal, actor=user.name, application_id=application_id)
    if action == "withdraw":
        return service.withdraw(portal, actor=user.name, application_id=application_id)
    decision = {
        "approve": Decision.APPROVE,
        "reject": Decision.REJECT,
        "return": Decision.RETURN,
    }.get(action)
    if decision is None:
        from open_portal.exceptions import NotFound

        raise NotFound(f"unknown action {action!r}", zh=f"未知操作 {action}")
    return service.review(
        portal, actor=user.name, application_id=application_id, decision=decision, comment=comment
    )


@router.get("/api/applications")
def api_list(portal: PortalDep, user: MemberDep) -> list[dict[str, Any]]:
    with portal.sessions() as session:
        return [
            application_view(a, session)
            for a in service.list_applications(portal, session, actor=user.name)
        ]


@router.post("/api/applications", status_code=201)
def api_create(
    portal: PortalDep, user: CreatorDep, data: ApplicationInput, submit: bool = False
) -> dict[str, Any]:
    application = service.create_application(portal, actor=user.name, data=data)
    if submit:
        service.submit(portal, actor=user.name, application_id=application.id)
    with portal.sessions() as session:
        return application_view(
            service.get_application(
                portal, session, actor=user.name, application_id=application.id
            ),
            session,
        )


@router.get("/api/applications/{application_id}")
def api_show(portal: PortalDep, user: MemberDep, application_id: RowId) -> dict[str, Any]:
    with portal.sessions() as session:
        return application_view(
            service.get_application(
                portal, session, actor=user.name, application_id=application_id
            ),
            session,
        )


@router.post("/api/applications/{application_id}/{action}")
def api_act(
    portal: PortalDep,
    user: MemberDep,
    application_id: RowId,
    action: Word,
    body: CommentInput | None = None,
) -> dict[str, Any]:
    _act(portal, user, application_id, action, body.comment if body else "")
    with portal.sessions() as session:
        return application_view(
            service.get_application(
                portal, session, actor=user.name, application_id=application_id
            ),
            session,
        )
