"""Personal data in a dataset version's free text: found once per version, kept, reused.

The spans that the detector finds in a text depend on the text only, never on a grant or its key.
They are found once per dataset version, in the background when the version is uploaded (the
owner sees the progress on the dataset page) or at the first release that needs them, and sealed
in the vault under the version's own data key, like the raw file they come from. Every release of
the version (the L1 release, each grant's release) replaces the kept spans and runs no detector;
a new version, a column not covered yet or another detector (``desensitize.detect.DETECTOR``)
means one new run. A ``TextDetection`` row holds the state and progress, never any span.
"""

from __future__ import annotations

import logging
from pathlib import Path

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

import desensitize
from desensitize.detect import DETECTOR
from desensitize.spancache import detect_table_spans, spans_from_bytes, spans_to_bytes
from open_portal.models import DatasetVersion, DetectionStatus, Level, TextDetection
from open_portal.service.auditing import record
from open_portal.service.context import Portal
from open_portal.vault import VaultError, sha256_hex

log = logging.getLogger(__name__)


def text_columns(version: DatasetVersion) -> list[str]:
    """The columns whose spans are kept: free text found by the scan and the columns the
    version's policy redacts."""
    scan = desensitize.TableScan.from_json(version.scan)
    columns = [c.name for c in scan.columns if c.free_text]
    if version.policy_yaml:
        policy = desensitize.Policy.from_yaml(version.policy_yaml)
        redacted = [n for n, r in policy.columns.items() if r.action == desensitize.Action.REDACT]
        columns += [n for n in redacted if n not in columns and scan.column(n) is not None]
    return columns


def sealed_name(version: DatasetVersion) -> str:
    return f"{version.dataset_id}-v{version.number}.spans.parquet"


def detection_of(session: Session, version_id: int) -> TextDetection | None:
    """The state of the detection for one version (``None`` before any)."""
    return session.scalar(select(TextDetection).where(TextDetection.version_id == version_id))


def start_detection(portal: Portal, *, version_id: int) -> None:
    """Find the spans of a new version's free text in the background (for the levels that have
    record-level releases: L1 and L2)."""
    with portal.sessions.begin() as session:
        version = session.get(DatasetVersion, version_id)
        if version is None or version.dataset.level not in (Level.L1, Level.L2):
            return
        if not text_columns(version):
            return
        if detection_of(session, version_id) is None:
            session.add(TextDetection(version_id=version_id, rows_total=version.rows))
    portal.background.submit(_in_background, portal, version_id)


def resume_detections(portal: Portal) -> int:
    """Start again, in the background, the runs that a stop of the portal interrupted (or that
    failed); returns how many."""
    with portal.sessions() as session:
        unfinished = list(
            session.scalars(
                select(TextDetection.version_id).where(TextDetection.status != DetectionStatus.DONE)
            )
        )
    for version_id in unfinished:
        portal.background.submit(_in_background, portal, version_id)
    return len(unfinished)


def _in_background(portal: Portal, version_id: int) -> None:
    try:
        kept_spans(portal, version_id=version_id)
    except Exception:  # the row says it failed; the first release that needs the spans retries
        log.exception("detection of personal data in version %s failed", version_id)


def kept_spans(
    portal: Portal, *, version_id: int, columns: list[str] | None = None
) -> pl.DataFrame | None:
    """The kept spans of a version's free text, covering ``columns`` (by default
    :func:`text_columns`); found now, once, when none are kept for them yet.

    Call it outside a transaction that has written to the database: a run records its progress
    in transactions of its own.
    """
    with portal.version_lock(version_id):
        with portal.sessions() as session:
            version = session.get(DatasetVersion, version_id)
            if version is None:
                return None
            wanted = list(columns) if columns is not None else text_columns(version)
            if not wanted:
                return None
            row = detection_of(session, version_id)
            covered = list(row.columns) if row is not None and row.detector == DETECTOR else []
            done = row is not None and row.status == DetectionStatus.DONE
            if row is not None and done and set(wanted) <= set(covered):
                return _open(portal, version, row)
        return _detect(portal, version, [*covered, *(c for c in wanted if c not in covered)])


def _open(portal: Portal, version: DatasetVersion, row: TextDetection) -> pl.DataFrame:
    data = portal.vault.open(sealed_name(version), version.wrapped_key)
    if sha256_hex(data) != row.sealed_sha256:
        raise VaultError(f"the kept spans of {sealed_name(version)} do not match their record")
    return spans_from_bytes(data)


def _update(portal: Portal, version_id: int, **values: object) -> None:
    with portal.sessions.begin() as session:
        row = detection_of(session, version_id)
        if row is None:
            row = TextDetection(version_id=version_id)
            session.add(row)
        for name, value in values.items():
            setattr(row, name, value)


def _detect(portal: Portal, version: DatasetVersion, columns: list[str]) -> pl.DataFrame:
    """One run of the detector over ``columns`` of the version's raw file."""
    from open_portal.service.catalog import private_copy, raw_bytes

    _update(
        portal,
        version.id,
        status=DetectionStatus.RUNNING,
        detector=DETECTOR,
        columns=columns,
        rows_total=version.rows,
        rows_done=0,
        spans=0,
        error="",
        started_at=portal.clock(),
        finished_at=None,
    )
    try:
        with private_copy(raw_bytes(portal, version), f".{version.file_format}") as path:
            spans = detect_table_spans(
                Path(path),
                columns,
                progress=lambda done: _update(portal, version.id, rows_done=done),
            )
        data = spans_to_bytes(spans)
        portal.vault.seal(sealed_name(version), data, version.wrapped_key)
    except Exception as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        _update(portal, version.id, status=DetectionStatus.FAILED, error=reason[:500])
        raise
    digest = sha256_hex(data)
    _update(
        portal,
        version.id,
        status=DetectionStatus.DONE,
        rows_done=version.rows,
        spans=spans.height,
        sealed_sha256=digest,
        finished_at=portal.clock(),
    )
    record(
        portal,
        "dataset.text_scanned",
        actor="system",
        object=f"dataset:{version.dataset_id}",
        version=version.number,
        columns=columns,
        detector=DETECTOR,
        spans=spans.height,
        sha256=digest,
    )
    return spans
