"""Who may do what on an export request: the policy decides on the grant's attributes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from open_portal.models import ExportRequest, Grant
from open_portal.service.access import allowed, grant_resource
from open_portal.service.context import Portal
from open_portal.service.exports.records import get_grant
from open_portal.service.exports.states import HELD_READABLE
from policies import Resource


def export_resource(
    session: Session, grant: Grant, author: str, user: str, now: datetime
) -> list[Resource]:
    """The policy resource of an export request: the grant's attributes and who wrote it."""
    return [
        Resource("export", domain=r.domain, attrs={**r.attrs, "is_author": author == user})
        for r in grant_resource(session, grant, user, now)
    ]


def request_resource(
    portal: Portal, session: Session, request: ExportRequest, user: str
) -> list[Resource]:
    return export_resource(
        session, get_grant(session, request.grant_id), request.author, user, portal.clock()
    )


def can(portal: Portal, session: Session, request: ExportRequest, user: str, action: str) -> bool:
    """Whether ``user`` may do ``action`` (read, edit, review, decide, download) on the request."""
    return allowed(user, action, request_resource(portal, session, request, user))


def may_see_held(portal: Portal, session: Session, request: ExportRequest, user: str) -> bool:
    """Whether ``user`` may read the held copies (bytes, previews, check details) of the request.

    Only an officer who may review this very request (neither its author nor a member of its
    grant), and only once it was submitted: a pending request is nobody's to look at. Requesters
    and members get bytes only from the release; ``admin`` never.
    """
    return request.status in HELD_READABLE and can(portal, session, request, user, "review")
