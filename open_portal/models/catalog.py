"""The catalog: datasets, their versions in the vault, and their releases."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Enum, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from open_portal.models.base import Base, utcnow


class Level(enum.StrEnum):
    """Sensitivity level: what a requester can get."""

    L1 = "L1"
    L2 = "L2"
    L3 = "L3"
    L4 = "L4"


class OpenClass(enum.StrEnum):
    """Open class and its DCAT access right."""

    UNCONDITIONAL = "unconditional"
    RESTRICTED = "restricted"
    PROHIBITED = "prohibited"

    @property
    def access_right(self) -> str:
        return {"unconditional": "PUBLIC", "restricted": "RESTRICTED", "prohibited": "NON_PUBLIC"}[
            self.value
        ]


OPEN_CLASS_OF_LEVEL = {
    Level.L1: OpenClass.UNCONDITIONAL,
    Level.L2: OpenClass.RESTRICTED,
    Level.L3: OpenClass.RESTRICTED,
    Level.L4: OpenClass.PROHIBITED,
}


class Dataset(Base):
    """A catalog entry with its DCAT-AP fields, classification and schema."""

    __tablename__ = "datasets"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title_zh: Mapped[str] = mapped_column(String(256))
    title_en: Mapped[str] = mapped_column(String(256))
    description_zh: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    publisher: Mapped[str] = mapped_column(String(64), index=True)
    publisher_name_zh: Mapped[str] = mapped_column(String(128), default="")
    publisher_name_en: Mapped[str] = mapped_column(String(128), default="")
    owner: Mapped[str] = mapped_column(String(64))
    keywords: Mapped[list[Any]] = mapped_column(default=list)
    theme: Mapped[str] = mapped_column(String(64), default="", index=True)
    temporal_coverage: Mapped[str] = mapped_column(String(64), default="")
    spatial_coverage: Mapped[str] = mapped_column(String(128), default="")
    update_frequency: Mapped[str] = mapped_column(String(32), default="")
    licence: Mapped[str] = mapped_column(String(128), default="")
    contact: Mapped[str] = mapped_column(String(256), default="")
    level: Mapped[Level] = mapped_column(Enum(Level, native_enum=False, length=4))
    open_class: Mapped[OpenClass] = mapped_column(Enum(OpenClass, native_enum=False, length=16))
    columns: Mapped[list[Any]] = mapped_column(default=list)
    dp_schema: Mapped[dict[str, Any]] = mapped_column(default=dict)
    issued: Mapped[datetime] = mapped_column(default=utcnow)
    modified: Mapped[datetime] = mapped_column(default=utcnow)

    versions: Mapped[list[DatasetVersion]] = relationship(
        back_populates="dataset", order_by="DatasetVersion.number"
    )

    @property
    def latest(self) -> DatasetVersion | None:
        return self.versions[-1] if self.versions else None


class DatasetVersion(Base):
    """One uploaded file of a dataset, held encrypted in the vault."""

    __tablename__ = "dataset_versions"
    __table_args__ = (UniqueConstraint("dataset_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id"))
    number: Mapped[int] = mapped_column()
    file_name: Mapped[str] = mapped_column(String(256))
    file_format: Mapped[str] = mapped_column(String(16))
    raw_sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(default=0)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    scan: Mapped[dict[str, Any]] = mapped_column(default=dict)
    policy_yaml: Mapped[str] = mapped_column(Text, default="")
    # The type of each column in releases (string, integer, float, date), inferred at upload and
    # confirmed by the owner with the policy.
    column_types: Mapped[dict[str, Any]] = mapped_column(default=dict)
    policy_confirmed: Mapped[bool] = mapped_column(default=False)
    # The security assessment of the confirmed policy (a desensitize release report), made in
    # the background after the confirmation ({} until then); for L1 the published release's.
    assessment: Mapped[dict[str, Any]] = mapped_column(default=dict)
    uploaded_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    dataset: Mapped[Dataset] = relationship(back_populates="versions")


class Release(Base):
    """A desensitized release: published (L1) or prepared for one grant (L2)."""

    __tablename__ = "releases"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("dataset_versions.id"))
    grant_id: Mapped[str | None] = mapped_column(String(32), index=True, default=None)
    path: Mapped[str] = mapped_column(String(512))
    sha256: Mapped[str] = mapped_column(String(64))
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)
    audit_index: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DetectionStatus(enum.StrEnum):
    """Where the detection of personal data in a version's free text stands."""

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class TextDetection(Base):
    """The spans of personal data found in a version's free-text columns: found once per version
    (they do not depend on any grant's key) and sealed in the vault under the version's data key;
    this row says how far the detection is and what the sealed spans cover."""

    __tablename__ = "text_detections"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("dataset_versions.id"), unique=True)
    status: Mapped[DetectionStatus] = mapped_column(
        Enum(DetectionStatus, native_enum=False, length=16), default=DetectionStatus.PENDING
    )
    detector: Mapped[str] = mapped_column(String(64), default="")
    columns: Mapped[list[Any]] = mapped_column(default=list)
    rows_total: Mapped[int] = mapped_column(default=0)
    rows_done: Mapped[int] = mapped_column(default=0)
    spans: Mapped[int] = mapped_column(default=0)
    sealed_sha256: Mapped[str] = mapped_column(String(64), default="")
    error: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)

    @property
    def percent(self) -> int:
        return 100 * self.rows_done // self.rows_total if self.rows_total else 0
