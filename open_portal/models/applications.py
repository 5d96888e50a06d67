"""Applications for data, their decisions and comments."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from open_portal.models.base import Base, utcnow
from open_portal.models.catalog import Level


class ApplicationStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class ApplicantKind(enum.StrEnum):
    PERSON = "person"
    ORGANISATION = "organisation"


class Decision(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    RETURN = "return"


class ReviewerRole(enum.StrEnum):
    OWNER = "owner"
    OFFICER = "officer"


class Application(Base):
    """A one-stop application for one or several datasets."""

    __tablename__ = "applications"

    id: Mapped[int] = mapped_column(primary_key=True)
    applicant: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[ApplicantKind] = mapped_column(Enum(ApplicantKind, native_enum=False, length=16))
    organisation: Mapped[str] = mapped_column(String(256), default="")
    organisation_uscc: Mapped[str] = mapped_column(String(18), default="")
    purpose: Mapped[str] = mapped_column(Text)
    project_description: Mapped[str] = mapped_column(Text, default="")
    products: Mapped[str] = mapped_column(Text, default="")
    team_members: Mapped[list[Any]] = mapped_column(default=list)
    level: Mapped[Level] = mapped_column(Enum(Level, native_enum=False, length=4))
    starts_on: Mapped[date] = mapped_column()
    ends_on: Mapped[date] = mapped_column()
    epsilon_requested: Mapped[str] = mapped_column(String(32), default="0")
    agreement_accepted: Mapped[bool] = mapped_column(default=False)
    commitment_accepted: Mapped[bool] = mapped_column(default=False)
    status: Mapped[ApplicationStatus] = mapped_column(
        Enum(ApplicationStatus, native_enum=False, length=16), default=ApplicationStatus.DRAFT
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)

    datasets: Mapped[list[ApplicationDataset]] = relationship(
        back_populates="application", cascade="all, delete-orphan"
    )
    decisions: Mapped[list[ApplicationDecision]] = relationship(
        back_populates="application", order_by="ApplicationDecision.id"
    )

    @property
    def dataset_ids(self) -> list[str]:
        return [d.dataset_id for d in self.datasets]

    @property
    def levels(self) -> dict[str, Level]:
        """The level asked for each dataset."""
        return {d.dataset_id: d.level for d in self.datasets}


class ApplicationDataset(Base):
    __tablename__ = "application_datasets"

    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), primary_key=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id"), primary_key=True)
    # what is asked for this dataset: L2 its desensitized records, L3 differentially private
    # answers only; never below the dataset's own level
    level: Mapped[Level] = mapped_column(
        Enum(Level, native_enum=False, length=4), server_default="L2"
    )

    application: Mapped[Application] = relationship(back_populates="datasets")


class ApplicationDecision(Base):
    """One reviewer's decision (or comment) on an application, in one review round."""

    __tablename__ = "application_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    round: Mapped[int] = mapped_column(default=1)
    reviewer: Mapped[str] = mapped_column(String(64))
    role: Mapped[ReviewerRole] = mapped_column(Enum(ReviewerRole, native_enum=False, length=16))
    dataset_id: Mapped[str | None] = mapped_column(String(64), default=None)
    decision: Mapped[Decision] = mapped_column(Enum(Decision, native_enum=False, length=16))
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    application: Mapped[Application] = relationship(back_populates="decisions")
