"""Publishing into the vault, the proposed policy, L1 releases, search — with the real engine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from factories import drained, meta, people_csv, portal_at

from open_portal.exceptions import Forbidden, InvalidInput, NotFound
from open_portal.models import Dataset, Level
from open_portal.schemas import DatasetMeta
from open_portal.service import catalog
from open_portal.service.context import Portal
from policies import AccessDenied


@pytest.fixture
def portal(tmp_path: Path, database_url: str) -> Iterator[Portal]:
    with portal_at(tmp_path / "data", database_url) as p:
        p.policy.assign_role("owner", "owner", "dept:market")
        yield p


def test_publish_seals_the_raw_file_and_proposes_a_policy(portal: Portal) -> None:
    content = people_csv()
    dataset = catalog.publish_dataset(
        portal, actor="owner", meta=meta(), file_name="people.csv", content=content
    )
    sealed = (portal.settings.vault_dir / "people-v1.csv").read_bytes()
    assert content[:200] not in sealed and b"id_number" not in sealed
    with portal.sessions() as session:
        stored = session.get(Dataset, dataset.id)
        assert stored is not None and stored.latest is not None
        version = stored.latest
        assert version.rows == 300
        assert catalog.raw_bytes(portal, version) == content
        found = {c["name"]: c["entity"] for c in version.scan["columns"]}
        assert found["id_number"] == "CN_ID_CARD" and found["mobile"] == "CN_MOBILE"
        assert "id_number" in version.policy_yaml and not version.policy_confirmed


def test_the_proposed_policy_shows_names_the_model_finds_in_free_text(portal: Portal) -> None:
    names = ("连文瑾", "唐婵晓", "费媛")  # no rule finds them here; the model does
    rows = [
        {"district": d, "note": f"今天我见到{names[i % 3]}了，情况已经说明清楚，需要跟进。"}
        for i, d in enumerate(["西湖区", "上城区", "余杭区", "武侯区", "金水区", "岳麓区"] * 5)
    ]
    content = pl.DataFrame(rows).write_csv().encode()
    catalog.publish_dataset(
        portal, actor="owner", meta=meta(level=Level.L2), file_name="notes.csv", content=content
    )
    with portal.sessions() as session:
        version = session.get(Dataset, "people").latest  # type: ignore[union-attr]
        assert version is not None
        columns = {c["name"]: c for c in version.scan["columns"]}
        policy_yaml = version.policy_yaml
    assert columns["district"]["entity"] is None  # district names are no persons
    assert columns["note"]["entity"] == "PERSON" and columns["note"]["inside"] == {"PERSON": 30}
    assert "note:" in policy_yaml and "redact" in policy_yaml


def test_confirming_an_l1_policy_publishes_a_release_with_its_report(portal: Portal) -> None:
    catalog.publish_dataset(
        portal, actor="owner", meta=meta(), file_name="people.csv", content=people_csv()
    )
    with portal.sessions() as session:
        proposed = session.get(Dataset, "people").latest.policy_yaml  # type: ignore[union-attr]
    catalog.confirm_policy(portal, actor="owner", dataset_id="people", policy_yaml=proposed)
    path, release = catalog.download_release(portal, actor="", dataset_id="people")
    published = pl.read_parquet(path)
    assert (
        "id_number" not in published.columns
        or not published["id_number"].str.contains(r"^\d{17}[\dXx]$").any()
    )
    assert release.report["output_sha256"] == release.sha256
    types = [e.type for _, e in portal.audit.entries()]
    # the free text is scanned once, in the background, whenever the upload's job gets to it
    assert types.count("dataset.text_scanned") == 1
    types.remove("dataset.text_scanned")
    assert types[-3:] == ["dataset.policy_confirmed", "release.published", "release.downloaded"]


def test_a_policy_leaving_an_identifier_untouched_is_refused(portal: Portal) -> None:
    catalog.publish_dataset(
        portal, actor="owner", meta=meta(), file_name="people.csv", content=people_csv()
    )
    with pytest.raises(InvalidInput, match="id_number"):
        catalog.confirm_policy(
            portal,
            actor="owner",
            dataset_id="people",
            policy_yaml="level: L1\ncolumns:\n  name:\n    action: drop\n",
        )
    with pytest.raises(InvalidInput, match="nope"):
        catalog.confirm_policy(
            portal,
            actor="owner",
            dataset_id="people",
            policy_yaml="level: L1\ncolumns:\n  nope:\n    action: drop\n",
        )


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("people.txt", b"a,b\n1,2\n", "unsupported file type"),
        ("people.parquet", b"not parquet at all", "does not parse"),
        ("people.xlsx", b"PK\x03\x04 broken", "does not parse"),
    ],
)
def test_files_that_do_not_parse_are_refused_and_nothing_is_kept(
    portal: Portal, name: str, content: bytes, says: str
) -> None:
    with pytest.raises(InvalidInput, match=says):
        catalog.publish_dataset(portal, actor="owner", meta=meta(), file_name=name, content=content)
    with portal.sessions() as session:
        assert session.get(Dataset, "people") is None
    assert not list(portal.settings.vault_dir.glob("people*"))  # nothing sealed for a refused file


def test_publishing_needs_the_owner_role_in_that_department(portal: Portal) -> None:
    with pytest.raises(AccessDenied):
        catalog.publish_dataset(
            portal, actor="researcher", meta=meta(), file_name="p.csv", content=people_csv(20)
        )
    other = DatasetMeta(id="xx", title_zh="x", title_en="x", publisher="health", level=Level.L2)
    with pytest.raises(Forbidden, match="one of yours"):  # an owner is told which are theirs
        catalog.publish_dataset(
            portal, actor="owner", meta=other, file_name="p.csv", content=people_csv(20)
        )


def test_l4_is_hidden_from_the_public_and_l2_has_no_download(portal: Portal) -> None:
    catalog.publish_dataset(
        portal,
        actor="owner",
        meta=meta("secret", Level.L4),
        file_name="p.csv",
        content=people_csv(20),
    )
    catalog.publish_dataset(
        portal,
        actor="owner",
        meta=meta("restricted", Level.L2),
        file_name="p.csv",
        content=people_csv(20),
    )
    with portal.sessions() as session:  # a draft (no confirmed policy) is the owner's alone
        assert catalog.search(portal, session, actor="").datasets == []
        with pytest.raises(NotFound):
            catalog.get_dataset(portal, session, actor="researcher", dataset_id="restricted")
    with portal.sessions() as session:
        proposed = (
            catalog.get_dataset(portal, session, actor="owner", dataset_id="restricted")
            .versions[0]
            .policy_yaml
        )
    catalog.confirm_policy(portal, actor="owner", dataset_id="restricted", policy_yaml=proposed)
    with portal.sessions() as session:
        public = catalog.search(portal, session, actor="")
        assert [d.id for d in public.datasets] == ["restricted"]
        mine = catalog.search(portal, session, actor="owner")
        assert {d.id for d in mine.datasets} == {"secret", "restricted"}
        with pytest.raises(NotFound):
            catalog.get_dataset(portal, session, actor="researcher", dataset_id="secret")
    with pytest.raises(AccessDenied):
        catalog.download_release(portal, actor="researcher", dataset_id="restricted")


def test_a_new_version_needs_its_policy_confirmed_again(portal: Portal) -> None:
    catalog.publish_dataset(
        portal, actor="owner", meta=meta(level=Level.L2), file_name="p.csv", content=people_csv(50)
    )
    with portal.sessions() as session:
        proposed = session.get(Dataset, "people").latest.policy_yaml  # type: ignore[union-attr]
    catalog.confirm_policy(portal, actor="owner", dataset_id="people", policy_yaml=proposed)
    drained(portal)  # its assessment is made
    version = catalog.upload_version(
        portal, actor="owner", dataset_id="people", file_name="p.csv", content=people_csv(80)
    )
    assert version.number == 2 and version.rows == 80 and not version.policy_confirmed
    with pytest.raises(AccessDenied):
        catalog.upload_version(
            portal,
            actor="researcher",
            dataset_id="people",
            file_name="p.csv",
            content=people_csv(5),
        )
    assert [e.type for _, e in portal.audit.entries()][-1] == "dataset.version_uploaded"
