"""Notifications in the portal: who has something waiting."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from open_portal.models import Notification


def notify(
    session: Session, users: set[str] | list[str], *, zh: str, en: str, link: str = ""
) -> None:
    for user in sorted(set(users)):
        session.add(Notification(user_name=user, message_zh=zh, message_en=en, link=link))


def unread(session: Session, user: str) -> list[Notification]:
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.user_name == user, Notification.read.is_(False))
            .order_by(Notification.id.desc())
            .limit(50)
        )
    )


def unread_count(session: Session, user: str) -> int:
    return int(
        session.scalar(
            select(func.count()).where(Notification.user_name == user, Notification.read.is_(False))
        )
        or 0
    )


def mark_read(session: Session, user: str) -> None:
    session.execute(update(Notification).where(Notification.user_name == user).values(read=True))
