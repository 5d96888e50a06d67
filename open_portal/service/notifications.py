"""Notifications in the portal: who has something waiting."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from open_portal.models import Notification


def notify(
    session: Session, users: set[str] | list[str], *, zh: str, en: str, link: str = ""
) -> None:
    for user in sorted(set(users)):
        session.add(Notification(user_name=user, message_zh=zh, message_en=en, link=link))


def unread(session: Session, user: str) -> list[Notification]:
    """Every unread notification of the user, newest first."""
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.user_name == user, Notification.read.is_(False))
            .order_by(Notification.id.desc())
        )
    )


def earlier(session: Session, user: str, *, limit: int = 20) -> list[Notification]:
    """The user's latest notifications already read, newest first."""
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.user_name == user, Notification.read.is_(True))
            .order_by(Notification.id.desc())
            .limit(limit)
        )
    )


def mark_read(session: Session, user: str) -> None:
    session.execute(update(Notification).where(Notification.user_name == user).values(read=True))
