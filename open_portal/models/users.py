"""People and organisations known to the portal (identities come from the hub)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from open_portal.models.base import Base, utcnow


class User(Base):
    """A portal user; the name is the hub login name."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128), default="")
    email: Mapped[str] = mapped_column(String(256), default="")
    organisation: Mapped[str] = mapped_column(String(256), default="")
    organisation_uscc: Mapped[str] = mapped_column(String(18), default="")
    department: Mapped[str] = mapped_column(String(64), default="")
    language: Mapped[str] = mapped_column(String(8), default="zh")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Notification(Base):
    """Something waiting for a user: a review to do, a decision made."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_name: Mapped[str] = mapped_column(String(64), index=True)
    message_zh: Mapped[str] = mapped_column(String(512))
    message_en: Mapped[str] = mapped_column(String(512))
    link: Mapped[str] = mapped_column(String(256), default="")
    read: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
