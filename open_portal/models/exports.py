"""Export requests (files out of a workspace, through review) and the destruction of grants."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from open_portal.models.base import Base, utcnow


class ExportStatus(enum.StrEnum):
    """The states of an export request, as OpenSAFELY Airlock names them."""

    PENDING = "pending"
    SUBMITTED = "submitted"
    PARTIALLY_REVIEWED = "partially_reviewed"
    REVIEWED = "reviewed"
    APPROVED = "approved"
    REJECTED = "rejected"
    RETURNED = "returned"
    RELEASED = "released"
    WITHDRAWN = "withdrawn"


class Vote(enum.StrEnum):
    """An officer's vote on one version of one file."""

    APPROVE = "approve"
    CHANGES = "changes"


class Visibility(enum.StrEnum):
    """Who reads a comment: officers only, or the requesters too."""

    PRIVATE = "private"
    PUBLIC = "public"


class DestructionStatus(enum.StrEnum):
    REQUESTED = "requested"  # asked for; waits for a security officer other than who asked
    STARTED = "started"
    DONE = "done"


class ExportRequest(Base):
    """Files a grant's members ask to take out of the workspace, copied into the holding area."""

    __tablename__ = "export_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[str] = mapped_column(ForeignKey("grants.id"), index=True)
    author: Mapped[str] = mapped_column(String(64))
    status: Mapped[ExportStatus] = mapped_column(
        Enum(ExportStatus, native_enum=False, length=24), default=ExportStatus.PENDING
    )
    # group name -> {"context": ..., "controls": ...}: the justification asked for per file group
    groups: Mapped[dict[str, Any]] = mapped_column(default=dict)
    reviewers_required: Mapped[int] = mapped_column(default=1)
    round: Mapped[int] = mapped_column(default=1)
    manifest: Mapped[dict[str, Any]] = mapped_column(default=dict)
    manifest_index: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    decided_by: Mapped[str] = mapped_column(String(64), default="")
    released_at: Mapped[datetime | None] = mapped_column(default=None)

    files: Mapped[list[ExportFile]] = relationship(
        back_populates="request", order_by="ExportFile.id", cascade="all, delete-orphan"
    )
    reviews: Mapped[list[ExportReview]] = relationship(
        back_populates="request", order_by="ExportReview.id", cascade="all, delete-orphan"
    )
    comments: Mapped[list[ExportComment]] = relationship(
        back_populates="request", order_by="ExportComment.id", cascade="all, delete-orphan"
    )


class ExportFile(Base):
    """One file of a request: the copy taken when it was added (or last updated), and its checks."""

    __tablename__ = "export_files"
    __table_args__ = (UniqueConstraint("request_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("export_requests.id"), index=True)
    name: Mapped[str] = mapped_column(String(512))
    group: Mapped[str] = mapped_column(String(64), default="default")
    version: Mapped[int] = mapped_column(default=1)
    size: Mapped[int] = mapped_column(default=0)
    sha256: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16), default="")
    checks: Mapped[list[Any]] = mapped_column(default=list)
    response: Mapped[str] = mapped_column(Text, default="")
    withdrawn: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    request: Mapped[ExportRequest] = relationship(back_populates="files")
    votes: Mapped[list[ExportVote]] = relationship(
        back_populates="file", order_by="ExportVote.id", cascade="all, delete-orphan"
    )

    @property
    def failing_checks(self) -> list[dict[str, Any]]:
        return [c for c in self.checks if not c.get("passed", False)]


class ExportVote(Base):
    """One officer's vote on one version of a file; a new version needs new votes."""

    __tablename__ = "export_votes"
    __table_args__ = (UniqueConstraint("file_id", "reviewer", "file_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("export_files.id"), index=True)
    reviewer: Mapped[str] = mapped_column(String(64))
    file_version: Mapped[int] = mapped_column()
    vote: Mapped[Vote] = mapped_column(Enum(Vote, native_enum=False, length=16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    file: Mapped[ExportFile] = relationship(back_populates="votes")


class ExportReview(Base):
    """An officer's completed review of a request in one round."""

    __tablename__ = "export_reviews"
    __table_args__ = (UniqueConstraint("request_id", "reviewer", "round"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("export_requests.id"), index=True)
    reviewer: Mapped[str] = mapped_column(String(64))
    round: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    request: Mapped[ExportRequest] = relationship(back_populates="reviews")


class ExportComment(Base):
    """A comment on a request or one of its files, for officers only or for everyone on it."""

    __tablename__ = "export_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("export_requests.id"), index=True)
    file_id: Mapped[int | None] = mapped_column(ForeignKey("export_files.id"), default=None)
    author: Mapped[str] = mapped_column(String(64))
    visibility: Mapped[Visibility] = mapped_column(
        Enum(Visibility, native_enum=False, length=16), default=Visibility.PUBLIC
    )
    round: Mapped[int] = mapped_column(default=1)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    request: Mapped[ExportRequest] = relationship(back_populates="comments")


class GrantDestruction(Base):
    """The durable record of a grant's destruction: which steps are done, so a crash resumes."""

    __tablename__ = "grant_destructions"

    grant_id: Mapped[str] = mapped_column(ForeignKey("grants.id"), primary_key=True)
    status: Mapped[DestructionStatus] = mapped_column(
        Enum(DestructionStatus, native_enum=False, length=16), default=DestructionStatus.STARTED
    )
    triggered_by: Mapped[str] = mapped_column(String(64))
    confirmed_by: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(512), default="")
    # step name -> what it destroyed (hashes, counts); a step present here is done
    steps: Mapped[dict[str, Any]] = mapped_column(default=dict)
    certificate_index: Mapped[int | None] = mapped_column(default=None)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
