"""Harvest sources (other catalogs, 一本账 across levels) and the datasets harvested from them.

Only metadata is kept: a harvested dataset links back to its source and no data is copied.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from open_portal.models.base import Base, utcnow


class SourceKind(enum.StrEnum):
    """How a source publishes its catalog."""

    DCAT = "dcat"  # a DCAT-AP catalog (JSON-LD, Turtle or RDF/XML), paged with hydra
    CKAN = "ckan"  # a CKAN action API (package_search)


class HarvestStatus(enum.StrEnum):
    NEW = "new"
    OK = "ok"
    FAILED = "failed"


class HarvestSource(Base):
    """A catalog registered by an admin, harvested every ``interval_minutes``."""

    __tablename__ = "harvest_sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(512), unique=True)
    kind: Mapped[SourceKind] = mapped_column(Enum(SourceKind, native_enum=False, length=8))
    title: Mapped[str] = mapped_column(String(256))
    interval_minutes: Mapped[int] = mapped_column(default=60)
    status: Mapped[HarvestStatus] = mapped_column(
        Enum(HarvestStatus, native_enum=False, length=8), default=HarvestStatus.NEW
    )
    message: Mapped[str] = mapped_column(Text, default="")
    dataset_count: Mapped[int] = mapped_column(default=0)
    last_run_at: Mapped[datetime | None] = mapped_column(default=None)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    datasets: Mapped[list[HarvestedDataset]] = relationship(
        back_populates="source", cascade="all, delete-orphan"
    )


class HarvestedDataset(Base):
    """The metadata of one dataset of a source, with the link back to it."""

    __tablename__ = "harvested_datasets"
    __table_args__ = (UniqueConstraint("source_id", "remote_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("harvest_sources.id"), index=True)
    remote_id: Mapped[str] = mapped_column(String(256))
    title_zh: Mapped[str] = mapped_column(String(512), default="")
    title_en: Mapped[str] = mapped_column(String(512), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    publisher: Mapped[str] = mapped_column(String(256), default="")
    theme: Mapped[str] = mapped_column(String(128), default="")
    keywords: Mapped[list[Any]] = mapped_column(default=list)
    landing_url: Mapped[str] = mapped_column(String(1024))
    modified: Mapped[str] = mapped_column(String(64), default="")

    source: Mapped[HarvestSource] = relationship(back_populates="datasets")
