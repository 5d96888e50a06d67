"""Builders of portal objects for tests: real rows through the real models and services."""

from __future__ import annotations

import datetime as dt
import io
import random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl

from desensitize import synthetic
from open_portal.config import PortalSettings
from open_portal.demo import ensure_demo_accounts
from open_portal.models import OPEN_CLASS_OF_LEVEL, Dataset, DatasetVersion, Level
from open_portal.schemas import ApplicationInput, DatasetMeta
from open_portal.service import applications, grants
from open_portal.service.context import Portal, open_portal


@contextmanager
def portal_at(data_dir: Path, database_url: str, *, demo_accounts: bool = True) -> Iterator[Portal]:
    """A portal on its own data directory and database, with the demo accounts and roles."""
    settings = PortalSettings(data_dir=data_dir, database_url=database_url, demo=True)
    portal = open_portal(settings)
    try:
        if demo_accounts:
            ensure_demo_accounts(portal)
        yield portal
    finally:
        portal.close()


def add_dataset(
    portal: Portal,
    dataset_id: str,
    level: Level,
    *,
    owner: str = "owner",
    publisher: str = "hotline",
    confirmed: bool = True,
    dp_schema: dict[str, Any] | None = None,
) -> Dataset:
    """A catalog entry with one version whose policy is confirmed (no file behind it)."""
    with portal.sessions.begin() as session:
        dataset = Dataset(
            id=dataset_id,
            title_zh=f"数据集 {dataset_id}",
            title_en=f"Dataset {dataset_id}",
            publisher=publisher,
            owner=owner,
            level=level,
            open_class=OPEN_CLASS_OF_LEVEL[level],
            theme="测试",
            keywords=["test"],
            dp_schema=dp_schema or {},
        )
        dataset.versions.append(
            DatasetVersion(
                number=1,
                file_name=f"{dataset_id}.csv",
                file_format="csv",
                raw_sha256="0" * 64,
                rows=0,
                wrapped_key=portal.vault.new_wrapped_key(),
                policy_yaml="",
                policy_confirmed=confirmed,
                uploaded_by=owner,
            )
        )
        session.add(dataset)
    return dataset


def application_input(
    dataset_ids: list[str], level: Level | None = None, **overrides: Any
) -> ApplicationInput:
    """A complete application; ``level`` None asks each dataset at its own level."""
    today = dt.date.today()
    values: dict[str, Any] = {
        "kind": "person",
        "dataset_ids": dataset_ids,
        "purpose": "研究 12345 热线诉求的季节规律",
        "level": level,
        "starts_on": today,
        "ends_on": today + dt.timedelta(days=90),
        "agreement_accepted": True,
        "commitment_accepted": True,
    }
    values.update(overrides)
    return ApplicationInput(**values)


def submitted_application(
    portal: Portal,
    dataset_ids: list[str],
    level: Level | None = None,
    *,
    actor: str = "researcher",
    **kw: Any,
) -> int:
    app = applications.create_application(
        portal, actor=actor, data=application_input(dataset_ids, level, **kw)
    )
    applications.submit(portal, actor=actor, application_id=app.id)
    return app.id


def people_csv(rows: int = 300) -> bytes:
    rng = random.Random(7)
    frame = pl.DataFrame([synthetic.fake_person_row(rng) for _ in range(rows)])
    buffer = io.BytesIO()
    frame.select("name", "id_number", "mobile", "district", "amount", "note").write_csv(buffer)
    return buffer.getvalue()


def meta(dataset_id: str = "people", level: Level = Level.L1) -> DatasetMeta:
    return DatasetMeta(
        id=dataset_id, title_zh="人员", title_en="People", publisher="market", level=level
    )


def drained(portal: Portal) -> None:
    """Wait for the background work queued so far (one worker, first in first out)."""
    portal.background.submit(lambda: None).result(timeout=300)


def join_team(portal: Portal, grant_id: str, members: list[str]) -> None:
    """Each invited team member accepts the invitation to the grant."""
    for member in members:
        grants.answer_invitation(portal, actor=member, grant_id=grant_id, accept=True)
