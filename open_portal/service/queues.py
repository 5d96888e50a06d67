"""Work queues: what waits for a user, one function per badge, shared by the badge and its page.

The layout's badges and the pages they lead to call the same function, so a badge never counts
what its page does not list.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from open_portal.models import Application, ExportRequest, Notification
from open_portal.service import applications, exports, notifications
from open_portal.service.context import Portal


@dataclass(frozen=True)
class Reviews:
    """What waits for a reviewer's decision: applications (owners, officers) and export
    requests (officers), as listed on the review page."""

    applications: list[Application]
    exports: list[ExportRequest]

    def __len__(self) -> int:
        return len(self.applications) + len(self.exports)


def reviews(portal: Portal, session: Session, *, actor: str) -> Reviews:
    """The review page's rows, and the review badge's count."""
    return Reviews(
        applications=applications.review_queue(portal, session, actor=actor),
        exports=exports.review_queue(portal, session, actor=actor),
    )


def unread(session: Session, *, actor: str) -> list[Notification]:
    """The notifications page's new rows, and the notification badge's count."""
    return notifications.unread(session, actor)
