"""Spans of personal data in free text are found once per dataset version, kept sealed, and reused
by every release of the version: counted at the detector itself."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from factories import meta, people_csv, portal_at

from desensitize import detect
from desensitize.detect import texts_examined
from open_portal.models import Dataset, DatasetVersion, DetectionStatus, Level, Release
from open_portal.service import catalog, detection
from open_portal.service.context import Portal
from open_portal.vault import VaultError

ROWS = 150


@pytest.fixture
def portal(tmp_path: Path, database_url: str) -> Iterator[Portal]:
    with portal_at(tmp_path / "data", database_url) as p:
        p.policy.assign_role("owner", "owner", "dept:market")
        yield p


def background_done(portal: Portal) -> None:
    """Wait for the background jobs submitted so far (one worker: they run in order)."""
    portal.background.submit(lambda: None).result(timeout=120)


def latest(portal: Portal) -> DatasetVersion:
    with portal.sessions() as session:
        version = session.get(Dataset, "people").latest  # type: ignore[union-attr]
        assert version is not None
        return version


def release_for(portal: Portal, grant_id: str, tmp_path: Path) -> pl.DataFrame:
    with portal.sessions.begin() as session:
        version = session.get(Dataset, "people").latest  # type: ignore[union-attr]
        assert version is not None
        release = catalog.build_release(
            portal,
            session,
            version,
            grant_id=grant_id,
            key=grant_id.encode() * 8,
            out_dir=tmp_path / grant_id,
        )
    return pl.read_parquet(release.path)


def publish(portal: Portal) -> None:
    catalog.publish_dataset(
        portal,
        actor="owner",
        meta=meta(level=Level.L2),
        file_name="p.csv",
        content=people_csv(ROWS),
    )


def confirm(portal: Portal, policy_yaml: str | None = None) -> None:
    catalog.confirm_policy(
        portal,
        actor="owner",
        dataset_id="people",
        policy_yaml=policy_yaml or latest(portal).policy_yaml,
    )


def test_two_grants_on_one_version_run_the_detector_once(portal: Portal, tmp_path: Path) -> None:
    before = texts_examined()
    publish(portal)
    background_done(portal)
    version = latest(portal)
    assert detection.text_columns(version) == ["note"]
    assert texts_examined() - before == ROWS  # found once, in the background, at upload
    with portal.sessions() as session:
        row = detection.detection_of(session, version.id)
        assert row is not None and row.status == DetectionStatus.DONE
        assert row.rows_done == row.rows_total == ROWS and row.percent == 100
    confirm(portal)
    found = texts_examined()

    first = release_for(portal, "g0001", tmp_path)
    second = release_for(portal, "g0002", tmp_path)
    assert texts_examined() == found  # two grants, no new detection

    raw = pl.read_csv(io.BytesIO(people_csv(ROWS)), infer_schema=False)
    expected = detect.redact_texts(raw.get_column("note").to_list())
    assert first.get_column("note").to_list() == expected
    assert second.get_column("note").equals(first.get_column("note"))
    assert "<PERSON>" in "".join(first.get_column("note").to_list())
    # the grants' keyed pseudonyms differ; the kept spans do not depend on the key
    assert not first.get_column("id_number").equals(second.get_column("id_number"))
    scanned = [e for _, e in portal.audit.entries() if e.type == "dataset.text_scanned"]
    assert len(scanned) == 1 and scanned[0].details["version"] == 1


def test_a_new_version_is_scanned_once_again(portal: Portal, tmp_path: Path) -> None:
    publish(portal)
    background_done(portal)
    confirm(portal)
    release_for(portal, "g0001", tmp_path)
    before = texts_examined()
    catalog.upload_version(
        portal, actor="owner", dataset_id="people", file_name="p.csv", content=people_csv(ROWS)
    )
    background_done(portal)
    assert texts_examined() - before == ROWS
    confirm(portal)
    release_for(portal, "g0002", tmp_path)
    release_for(portal, "g0003", tmp_path)
    assert texts_examined() - before == ROWS
    with portal.sessions() as session:
        versions = [r.version_id for r in session.query(Release).order_by(Release.id)]
    assert len(set(versions)) == 2


def test_the_first_release_finds_what_is_not_kept_yet(portal: Portal, tmp_path: Path) -> None:
    """A column the policy redacts beyond the free text found at upload: one run at the first
    release (the kept columns again with it), none at the next."""
    publish(portal)
    background_done(portal)
    policy = latest(portal).policy_yaml.replace(
        "columns:\n", "columns:\n  district:\n    action: redact\n", 1
    )
    confirm(portal, policy)
    before = texts_examined()
    release_for(portal, "g0001", tmp_path)
    assert texts_examined() - before == 2 * ROWS
    release_for(portal, "g0002", tmp_path)
    assert texts_examined() - before == 2 * ROWS
    with portal.sessions() as session:
        row = detection.detection_of(session, latest(portal).id)
        assert row is not None and row.columns == ["note", "district"]


def test_kept_spans_are_sealed_and_checked(portal: Portal, tmp_path: Path) -> None:
    publish(portal)
    background_done(portal)
    version = latest(portal)
    sealed = portal.settings.vault_dir / detection.sealed_name(version)
    blob = sealed.read_bytes()
    assert blob.startswith(b"PDSV1") and b"PAR1" not in blob[:64] and b"PERSON" not in blob
    kept = detection.kept_spans(portal, version_id=version.id)
    assert kept is not None and kept.height > 0
    # another version's spans put in its place do not authenticate under this name
    sealed.write_bytes(blob[:-1] + bytes([blob[-1] ^ 1]))
    confirm(portal)
    with pytest.raises(VaultError):
        release_for(portal, "g0001", tmp_path)


def test_a_failed_run_is_shown_and_retried_at_first_use(portal: Portal, tmp_path: Path) -> None:
    publish(portal)
    background_done(portal)
    version = latest(portal)
    with portal.sessions.begin() as session:
        row = detection.detection_of(session, version.id)
        assert row is not None
        row.status, row.error = DetectionStatus.FAILED, "interrupted"
    confirm(portal)
    before = texts_examined()
    release_for(portal, "g0001", tmp_path)
    assert texts_examined() - before == ROWS
    with portal.sessions() as session:
        row = detection.detection_of(session, version.id)
        assert row is not None and row.status == DetectionStatus.DONE and row.error == ""


def test_grants_pseudonymize_the_kept_entities_under_their_own_keys(
    portal: Portal, tmp_path: Path
) -> None:
    publish(portal)
    background_done(portal)
    policy = latest(portal).policy_yaml.replace(
        "action: redact", "action: redact\n    pseudonymize_entities: true", 1
    )
    assert "pseudonymize_entities" in policy
    confirm(portal, policy)
    before = texts_examined()
    first = release_for(portal, "g0001", tmp_path).get_column("note")
    second = release_for(portal, "g0002", tmp_path).get_column("note")
    assert texts_examined() == before
    assert first.str.contains(r"<PERSON:[0-9a-f]{24}>").any()
    assert (
        first.str.replace_all(r":[0-9a-f]{24}>", ">")
        == second.str.replace_all(r":[0-9a-f]{24}>", ">")
    ).all()
    assert not first.equals(second)


def test_a_run_a_stop_interrupted_is_resumed(portal: Portal) -> None:
    publish(portal)
    background_done(portal)
    version = latest(portal)
    with portal.sessions.begin() as session:
        row = detection.detection_of(session, version.id)
        assert row is not None
        row.status, row.rows_done, row.detector = DetectionStatus.RUNNING, 40, "rules-0"
    before = texts_examined()
    assert detection.resume_detections(portal) == 1
    background_done(portal)
    assert texts_examined() - before == ROWS
    assert detection.resume_detections(portal) == 0
    with portal.sessions() as session:
        row = detection.detection_of(session, version.id)
        assert row is not None and row.status == DetectionStatus.DONE


@pytest.mark.parametrize("level", [Level.L3, Level.L4])
def test_levels_without_record_level_releases_are_not_scanned(portal: Portal, level: Level) -> None:
    before = texts_examined()
    catalog.publish_dataset(
        portal, actor="owner", meta=meta(level=level), file_name="p.csv", content=people_csv(ROWS)
    )
    background_done(portal)
    assert texts_examined() == before
    with portal.sessions() as session:
        assert detection.detection_of(session, latest(portal).id) is None
