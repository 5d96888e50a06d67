"""Grants: what an approved application lets its holder do, for how long."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Enum, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from open_portal.models.base import Base, utcnow
from open_portal.models.catalog import Level


class GrantStatus(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    EXPIRED = "expired"  # its term is over
    ENDED = "ended"  # its holder ended it before its term
    DESTROYED = "destroyed"


class InvitationStatus(enum.StrEnum):
    INVITED = "invited"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class Grant(Base):
    """A grant (or authorization agreement for an operator) created by an approval."""

    __tablename__ = "grants"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), unique=True)
    holder: Mapped[str] = mapped_column(String(64), index=True)
    organisation: Mapped[str] = mapped_column(String(256), default="")
    organisation_uscc: Mapped[str] = mapped_column(String(18), default="")
    # the highest level of its datasets (each dataset has its own, in ``datasets``)
    level: Mapped[Level] = mapped_column(Enum(Level, native_enum=False, length=4))
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    status: Mapped[GrantStatus] = mapped_column(
        Enum(GrantStatus, native_enum=False, length=16), default=GrantStatus.ACTIVE
    )
    status_reason: Mapped[str] = mapped_column(String(512), default="")
    epsilon_budget: Mapped[str] = mapped_column(String(32), default="0")
    export_rules: Mapped[dict[str, Any]] = mapped_column(default=dict)
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    members: Mapped[list[GrantMember]] = relationship(
        back_populates="grant", cascade="all, delete-orphan", order_by="GrantMember.user_name"
    )
    datasets: Mapped[list[GrantDataset]] = relationship(
        back_populates="grant", cascade="all, delete-orphan"
    )
    invitations: Mapped[list[GrantInvitation]] = relationship(
        back_populates="grant", cascade="all, delete-orphan", order_by="GrantInvitation.user_name"
    )

    @property
    def member_names(self) -> list[str]:
        return [m.user_name for m in self.members]

    @property
    def levels(self) -> dict[str, Level]:
        """The level of each dataset of the grant."""
        return {d.dataset_id: d.level for d in self.datasets}

    @property
    def record_level_ids(self) -> list[str]:
        """The datasets whose desensitized release the workspace mounts (L2)."""
        return sorted(d.dataset_id for d in self.datasets if d.level == Level.L2)

    @property
    def invited_names(self) -> list[str]:
        """Team members asked to join who have not answered yet."""
        return [i.user_name for i in self.invitations if i.status == InvitationStatus.INVITED]

    def is_usable(self, now: datetime) -> bool:
        """Active and within its term."""
        return self.status == GrantStatus.ACTIVE and self.starts_at <= now < self.ends_at


class GrantMember(Base):
    __tablename__ = "grant_members"

    grant_id: Mapped[str] = mapped_column(ForeignKey("grants.id"), primary_key=True)
    user_name: Mapped[str] = mapped_column(String(64), primary_key=True)

    grant: Mapped[Grant] = relationship(back_populates="members")


class GrantDataset(Base):
    __tablename__ = "grant_datasets"

    grant_id: Mapped[str] = mapped_column(ForeignKey("grants.id"), primary_key=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id"), primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("dataset_versions.id"))
    # L2: the desensitized release is mounted in the workspace; L3: DP answers only
    level: Mapped[Level] = mapped_column(
        Enum(Level, native_enum=False, length=4), server_default="L2"
    )

    grant: Mapped[Grant] = relationship(back_populates="datasets")


class GrantInvitation(Base):
    """A team member named in the application, asked to join the grant; nobody joins unasked."""

    __tablename__ = "grant_invitations"

    grant_id: Mapped[str] = mapped_column(ForeignKey("grants.id"), primary_key=True)
    user_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[InvitationStatus] = mapped_column(
        Enum(InvitationStatus, native_enum=False, length=16), default=InvitationStatus.INVITED
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(default=None)

    grant: Mapped[Grant] = relationship(back_populates="invitations")


class WorkspaceCredential(Base):
    """The credential of one running workspace: one grant, one member; only its hash is kept.

    The spawner issues it when a member's server starts and revokes it (deletes the row) when
    the server stops; a grant that stops being usable drops all of its credentials.
    """

    __tablename__ = "workspace_credentials"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    grant_id: Mapped[str] = mapped_column(ForeignKey("grants.id"), index=True)
    user_name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
