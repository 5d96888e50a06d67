"""A portal with grants whose workspaces live in a temporary directory, laid out as on a host."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from factories import add_dataset, portal_at

from open_portal.models import Level
from open_portal.service.context import Portal


@pytest.fixture
def portal(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Portal]:
    data = tmp_path / "data"
    monkeypatch.setenv("PDS_DATA_DIR", str(data))
    monkeypatch.setenv("PDS_WORKSPACE_ROOT", str(tmp_path / "workspaces"))
    monkeypatch.setenv("PDS_WORKSPACE_RUN_DIR", str(tmp_path / "run"))
    monkeypatch.delenv("JUPYTERHUB_API_URL", raising=False)
    monkeypatch.delenv("JUPYTERHUB_API_TOKEN", raising=False)
    with portal_at(data, database_url) as p:
        add_dataset(p, "tickets", Level.L2, publisher="hotline")
        add_dataset(p, "payments", Level.L3, publisher="hrss")
        p.policy.assign_role("owner", "owner", "dept:hotline")
        p.policy.assign_role("owner", "owner", "dept:hrss")
        p.policy.assign_role("officer3", "officer")
        yield p
