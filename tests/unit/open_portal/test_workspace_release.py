"""A grant's release: in memory for the workspace, sealed at rest, gone with the grant's key."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from factories import meta, people_csv, portal_at, submitted_application

from open_portal import workspaces
from open_portal.models import Dataset, Decision, Grant, Level
from open_portal.service import applications, catalog, destruction, grants
from open_portal.service.context import Portal
from open_portal.vault import Vault, VaultError

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[Portal]:
    with portal_at(tmp_path / "data", f"sqlite:///{tmp_path / 'p.sqlite'}") as p:
        p.policy.assign_role("owner", "owner", "dept:market")
        catalog.publish_dataset(
            p, actor="owner", meta=meta(level=Level.L2), file_name="p.csv", content=people_csv(200)
        )
        with p.sessions() as session:
            proposed = session.get(Dataset, "people").latest.policy_yaml  # type: ignore[union-attr]
        catalog.confirm_policy(p, actor="owner", dataset_id="people", policy_yaml=proposed)
        yield p
        for mounted in (p.settings.releases_dir / "grants").glob("*/plain"):
            workspaces.unmount_memory(mounted)


def l2_grant(portal: Portal) -> Grant:
    app_id = submitted_application(portal, ["people"])
    applications.review(portal, actor="owner", application_id=app_id, decision=Decision.APPROVE)
    with portal.sessions() as session:
        grant = session.get(Grant, f"g{app_id:04d}")
        assert grant is not None
        return grant


@needs_root
def test_release_is_in_memory_and_sealed_at_rest(portal: Portal) -> None:
    grant = l2_grant(portal)
    plain = workspaces.prepare_release(portal, grant)
    assert os.path.ismount(plain)
    frame = pl.read_parquet(plain / "people.parquet")
    assert frame.height == 200
    assert not frame["id_number"].cast(pl.String).str.contains(r"^\d{17}[\dXx]$").any()
    sealed = workspaces.sealed_dir(portal, grant.id) / "people.parquet"
    assert sealed.read_bytes().startswith(b"PDSV1")
    assert b"PAR1" not in sealed.read_bytes()[:64]
    # after a restart the memory copy comes back from the sealed one, identical, not rebuilt
    workspaces.unmount_memory(plain)
    assert not (plain / "people.parquet").exists()
    prepared = [e for _, e in portal.audit.entries() if e.type == "release.prepared"]
    again = workspaces.prepare_release(portal, grant)
    assert pl.read_parquet(again / "people.parquet").equals(frame)
    assert len([e for _, e in portal.audit.entries() if e.type == "release.prepared"]) == len(
        prepared
    )


@needs_root
def test_destruction_unmounts_and_erases_the_key(portal: Portal, tmp_path: Path) -> None:
    grant = l2_grant(portal)
    plain = workspaces.prepare_release(portal, grant)
    left_behind = tmp_path / "left-behind" / "people.parquet"
    left_behind.parent.mkdir()
    shutil.copy(workspaces.sealed_dir(portal, grant.id) / "people.parquet", left_behind)
    wrapped = grant.wrapped_key
    assert wrapped is not None
    grants.change_status(portal, actor="officer", grant_id=grant.id, action="revoke", reason="测试")
    destruction.destroy_grant(portal, actor="officer", grant_id=grant.id, confirmed_by="officer2")
    assert not os.path.ismount(plain)
    assert not workspaces.release_root(portal, grant.id).exists()
    with portal.sessions() as session:
        erased = session.get(Grant, grant.id)
        assert erased is not None and erased.wrapped_key is None
    # the copy left behind opens only with the erased key, which exists nowhere any more
    vault = Vault(left_behind.parent, portal.vault.master_key)
    assert vault.open(left_behind.name, wrapped)[:4] == b"PAR1"
    with pytest.raises(VaultError):
        vault.open(left_behind.name, portal.vault.new_wrapped_key())
    certificate = [e for _, e in portal.audit.entries() if e.type == "grant.destroyed"][-1]
    assert "memory" in str(certificate.to_dict()["details"])
