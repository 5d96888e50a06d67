"""Applications: the form, my applications, one application with its decisions, the review queue.

One endpoint per action, for forms (``/applications/{id}/<action>``, answered by a redirect to the
application) and for the API (``/api/applications/{id}/<action>``, answered by the application).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from open_portal.auth import Identity
from open_portal.exceptions import Error, InvalidInput
from open_portal.models import ApplicantKind, Decision, Level
from open_portal.params import RowId
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
from open_portal.service.context import Portal
from open_portal.views import applications as views
from open_portal.views.applications import ApplicationOut
from open_portal.web import CsrfDep, Guard, PortalDep, form_error, language, status_of
from policies import AccessDenied

router = APIRouter()
# Whether the caller is the applicant, an owner of a dataset or an officer is decided per application.
MemberDep = Annotated[Identity, Depends(Guard())]
CreatorDep = Annotated[Identity, Depends(Guard())]
ReviewerDep = Annotated[Identity, Depends(Guard())]
CommentField = Annotated[str, Form(max_length=TEXT_MAX)]


def _to_page(request: Request, application_id: int) -> RedirectResponse:
    return RedirectResponse(
        f"{request.app.state.prefix}/applications/{application_id}", status_code=303
    )


def _review(
    portal: Portal, user: Identity, application_id: int, decision: Decision, comment: str
) -> None:
    service.review(
        portal, actor=user.name, application_id=application_id, decision=decision, comment=comment
    )


# ---- pages -------------------------------------------------------------------------------


@router.get("/applications", response_class=HTMLResponse)
def my_applications(request: Request, portal: PortalDep, user: MemberDep) -> HTMLResponse:
    return views.list_page(request, portal, actor=user.name)


@router.get("/applications/new", response_class=HTMLResponse)
def new_application(
    request: Request,
    portal: PortalDep,
    user: CreatorDep,
    dataset: Annotated[str, Query(max_length=NAME_MAX)] = "",
) -> HTMLResponse:
    return views.form_page(request, portal, actor=user.name, dataset=dataset)


@router.post("/applications", dependencies=[CsrfDep], response_model=None)
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
    submit: bool = False,
) -> RedirectResponse | HTMLResponse:
    """Save the form as a draft, and send it for review with ``?submit=true``.

    A refusal shows the form again, with what was typed and what is wrong, and saves nothing.
    """
    values = {
        "dataset_ids": dataset_ids,
        "purpose": purpose,
        "starts_on": starts_on,
        "ends_on": ends_on,
        "kind": kind.value,
        "project_description": project_description,
        "products": products,
        "team_members": team_members,
        "epsilon": epsilon,
        "organisation": organisation,
        "organisation_uscc": organisation_uscc,
        "agreement_accepted": agreement_accepted,
        "commitment_accepted": commitment_accepted,
    }
    try:
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
        if submit and not (agreement_accepted and commitment_accepted):
            raise InvalidInput(
                "accept the data-use agreement and the security commitment before submitting",
                zh="提交前须同意《开放利用协议》和安全承诺",
            )
        application = service.create_application(portal, actor=user.name, data=data)
    except (Error, AccessDenied, ValidationError) as exc:
        return views.form_page(
            request,
            portal,
            actor=user.name,
            dataset="",
            values=values,
            error=form_error(exc, language(request)),
            status_code=status_of(exc),
        )
    if submit:
        service.submit(portal, actor=user.name, application_id=application.id)
    return _to_page(request, application.id)


@router.get("/applications/{application_id}", response_class=HTMLResponse)
def application_page(
    request: Request, portal: PortalDep, user: MemberDep, application_id: RowId
) -> HTMLResponse:
    return views.application_page(request, portal, actor=user.name, application_id=application_id)


@router.post("/applications/{application_id}/submit", dependencies=[CsrfDep])
def submit_from_form(
    request: Request, portal: PortalDep, user: MemberDep, application_id: RowId
) -> RedirectResponse:
    service.submit(portal, actor=user.name, application_id=application_id)
    return _to_page(request, application_id)


@router.post("/applications/{application_id}/withdraw", dependencies=[CsrfDep])
def withdraw_from_form(
    request: Request, portal: PortalDep, user: MemberDep, application_id: RowId
) -> RedirectResponse:
    service.withdraw(portal, actor=user.name, application_id=application_id)
    return _to_page(request, application_id)


@router.get("/reviews", response_class=HTMLResponse)
def review_queue(request: Request, portal: PortalDep, user: ReviewerDep) -> HTMLResponse:
    return views.review_queue_page(request, portal, actor=user.name)


# ---- JSON API ----------------------------------------------------------------------------


@router.get("/api/applications", response_model=list[ApplicationOut])
def api_list(portal: PortalDep, user: MemberDep) -> list[ApplicationOut]:
    return views.listed(portal, actor=user.name)


@router.post("/api/applications", status_code=201, response_model=ApplicationOut)
def api_create(
    portal: PortalDep, user: CreatorDep, data: ApplicationInput, submit: bool = False
) -> ApplicationOut:
    """Save a draft, and send it for review with ``?submit=true``."""
    application = service.create_application(portal, actor=user.name, data=data)
    if submit:
        service.submit(portal, actor=user.name, application_id=application.id)
    return views.shown(portal, actor=user.name, application_id=application.id)


@router.get("/api/applications/{application_id}", response_model=ApplicationOut)
def api_show(portal: PortalDep, user: MemberDep, application_id: RowId) -> ApplicationOut:
    return views.shown(portal, actor=user.name, application_id=application_id)


@router.post("/api/applications/{application_id}/submit", response_model=ApplicationOut)
def api_submit(portal: PortalDep, user: MemberDep, application_id: RowId) -> ApplicationOut:
    service.submit(portal, actor=user.name, application_id=application_id)
    return views.shown(portal, actor=user.name, application_id=application_id)


@router.post("/api/applications/{application_id}/withdraw", response_model=ApplicationOut)
def api_withdraw(portal: PortalDep, user: MemberDep, application_id: RowId) -> ApplicationOut:
    service.withdraw(portal, actor=user.name, application_id=application_id)
    return views.shown(portal, actor=user.name, application_id=application_id)


def _decision_endpoints(decision: Decision, *, reason_required: bool) -> None:
    """Register ``POST /applications/{id}/<decision>`` (a form) and its API twin; returning and
    rejecting need a comment in the API (the form's page asks for it)."""
    action = decision.value

    def from_form(
        request: Request,
        portal: PortalDep,
        user: MemberDep,
        application_id: RowId,
        comment: CommentField = "",
    ) -> RedirectResponse:
        _review(portal, user, application_id, decision, comment)
        return _to_page(request, application_id)

    def from_api(
        portal: PortalDep, user: MemberDep, application_id: RowId, body: CommentInput | None = None
    ) -> ApplicationOut:
        _review(portal, user, application_id, decision, body.comment if body else "")
        return views.shown(portal, actor=user.name, application_id=application_id)

    def from_api_with_reason(
        portal: PortalDep, user: MemberDep, application_id: RowId, body: CommentInput
    ) -> ApplicationOut:
        return from_api(portal, user, application_id, body)

    router.add_api_route(
        f"/applications/{{application_id}}/{action}",
        from_form,
        methods=["POST"],
        dependencies=[CsrfDep],
        name=f"{action}_from_form",
        response_class=RedirectResponse,
    )
    router.add_api_route(
        f"/api/applications/{{application_id}}/{action}",
        from_api_with_reason if reason_required else from_api,
        methods=["POST"],
        name=f"api_{action}",
        response_model=ApplicationOut,
    )


_decision_endpoints(Decision.APPROVE, reason_required=False)
_decision_endpoints(Decision.RETURN, reason_required=True)
_decision_endpoints(Decision.REJECT, reason_required=True)
