"""Grants as the sandbox reads them, and grant providers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sandbox.exceptions import Error
from sandbox.grants import (
    WorkspaceGrant,
    WorkspaceLimits,
    grant_from_dict,
    json_file_provider,
    load_provider,
    resolve_grant,
)

GRANT = {
    "grant_id": "g-1",
    "user": "alice",
    "level": "L2",
    "active": True,
    "ends_at": "2030-01-01T00:00:00+00:00",
    "release_dir": "/srv/releases/g-1",
    "limits": {"mem_bytes": 1, "cpu_fraction": 0.5, "max_pids": 10, "disk_bytes": 2},
}


def test_grant_from_dict() -> None:
    grant = grant_from_dict(GRANT)
    assert grant == WorkspaceGrant(
        grant_id="g-1",
        user="alice",
        level="L2",
        active=True,
        ends_at=datetime(2030, 1, 1, tzinfo=UTC),
        release_dir=Path("/srv/releases/g-1"),
        limits=WorkspaceLimits(mem_bytes=1, cpu_fraction=0.5, max_pids=10, disk_bytes=2),
    )


def test_json_file_provider_answers_only_the_member(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "grants.json"
    path.write_text(json.dumps([GRANT]))
    monkeypatch.setenv("PDS_SANDBOX_GRANTS_FILE", str(path))
    assert json_file_provider("alice", "g-1") is not None
    assert json_file_provider("bob", "g-1") is None
    assert json_file_provider("alice", "g-2") is None


async def test_async_and_sync_providers_resolve() -> None:
    grant = grant_from_dict(GRANT)

    async def async_provider(user: str, server: str) -> WorkspaceGrant | None:
        return grant if user == "alice" else None

    assert await resolve_grant(async_provider, "alice", "g-1") == grant
    assert await resolve_grant(lambda u, s: None, "alice", "g-1") is None
    with pytest.raises(Error):
        await resolve_grant(lambda u, s: {"grant_id": "g-1"}, "alice", "g-1")  # type: ignore[arg-type,return-value]


def test_load_provider_from_import_string() -> None:
    assert load_provider("sandbox.grants:json_file_provider") is json_file_provider
    with pytest.raises(Error):
        load_provider("sandbox.grants")
