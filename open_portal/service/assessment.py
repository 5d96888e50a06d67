"""The security assessment of a dataset version: what its confirmed policy does to the data.

Made when the owner confirms a policy, for every level. For L1 it is the report of the published
release. For the other levels it is the same report made from a trial run of the policy in a
private temporary directory (a throwaway key, nothing kept but the report), in the background,
after the free text's personal data has been found; grants get their own release later.
"""

from __future__ import annotations

import logging
import secrets
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import select

import desensitize
from open_portal import permissions
from open_portal.exceptions import InvalidInput
from open_portal.i18n import N_
from open_portal.models import Dataset, DatasetVersion, Level
from open_portal.service import detection
from open_portal.service.auditing import record
from open_portal.service.context import Portal
from open_portal.vault import sha256_hex

log = logging.getLogger(__name__)


def start_assessment(portal: Portal, *, version_id: int) -> None:
    """Assess the version's confirmed policy in the background (after any text detection)."""
    portal.background.submit(_in_background, portal, version_id)


def resume_assessments(portal: Portal) -> int:
    """Assess again, in the background, the newest confirmed version of each dataset that has no
    assessment (a stop of the portal, a failed run, or confirmed before assessments existed);
    returns how many."""
    with portal.sessions() as session:
        missing = [
            confirmed[-1].id
            for dataset in session.scalars(select(Dataset))
            if (confirmed := [v for v in dataset.versions if v.policy_confirmed])
            and (not confirmed[-1].assessment or "failed" in confirmed[-1].assessment)
        ]
    for version_id in missing:
        start_assessment(portal, version_id=version_id)
    return len(missing)


def _in_background(portal: Portal, version_id: int) -> None:
    try:
        assess(portal, version_id=version_id)
    except Exception as exc:  # the page says so; confirming again (or a restart) retries
        log.exception("assessment of version %s failed", version_id)
        with portal.sessions.begin() as session:
            version = session.get(DatasetVersion, version_id)
            if version is not None and not version.assessment:
                version.assessment = {"failed": f"{type(exc).__name__}: {exc}"[:500]}


def assess(portal: Portal, *, version_id: int) -> dict[str, Any] | None:
    """Run the confirmed policy of a version on its raw data and keep the report on the version;
    ``None`` if the version is gone or its policy changed meanwhile."""
    from open_portal.service.catalog import private_copy, raw_bytes

    with portal.sessions() as session:
        version = session.get(DatasetVersion, version_id)
        if version is None or not version.policy_confirmed:
            return None
        policy_yaml, column_types = version.policy_yaml, dict(version.column_types)
        dataset_id, number = version.dataset_id, version.number
        raw = raw_bytes(portal, version)
        suffix = f".{version.file_format}"
    policy = desensitize.Policy.from_yaml(policy_yaml)
    redacted = [n for n, r in policy.columns.items() if r.action == desensitize.Action.REDACT]
    spans = detection.kept_spans(portal, version_id=version_id, columns=redacted)
    with private_copy(raw, suffix) as src, tempfile.TemporaryDirectory(dir=src.parent) as out:
        report = desensitize.desensitize_table(
            src,
            Path(out) / f"{dataset_id}.parquet",
            policy=policy,
            key=secrets.token_bytes(32),
            column_types=column_types,
            text_spans=spans,
        ).to_json()
    report["output"]["sha256"] = report["output_sha256"] = ""  # a trial run: nothing published
    with portal.sessions.begin() as session:
        version = session.get(DatasetVersion, version_id)
        if version is None or version.policy_yaml != policy_yaml:
            return None
        version.assessment = report
        record(
            portal,
            "dataset.assessed",
            actor="system",
            object=f"dataset:{dataset_id}",
            version=number,
            policy_sha256=sha256_hex(policy_yaml.encode()),
            k_achieved=report["k_achieved"],
            rows_suppressed=report["rows_suppressed"],
        )
    return report


def assessed_version(
    portal: Portal, session: Any, *, actor: str, dataset: Dataset
) -> DatasetVersion:
    """The newest confirmed version whose assessment the actor may read (L1: anyone; other
    levels: the owner, officers and admins), or ``InvalidInput`` when there is none."""
    if not permissions.can_read_assessment(portal.policy, actor, dataset):
        from open_portal.service.catalog import dataset_not_found

        raise dataset_not_found(dataset.id)
    confirmed = [v for v in dataset.versions if v.policy_confirmed]
    if not confirmed:
        raise InvalidInput(
            f"{dataset.id} has no confirmed policy yet: the assessment is made when it is",
            zh=f"数据集 {dataset.id} 尚未确认脱敏策略：确认后生成安全评估报告",
        )
    return confirmed[-1]


# What each action does, in English (translated on the page and in the PDF).
ACTION_EFFECTS = {
    N_("keep"): N_("kept as it is"),
    N_("drop"): N_("removed from the release"),
    N_("mask"): N_("characters hidden, only the first and last kept"),
    N_("pseudonymize"): N_(
        "replaced by a keyed pseudonym (the same value gives the same pseudonym "
        "within one grant, a different one in another grant)"
    ),
    N_("generalize"): N_("coarsened (ranges, dates to month or year, addresses to district)"),
    N_("redact"): N_("personal data found in the text replaced by its type"),
}


def report_view(dataset: Dataset, version: DatasetVersion) -> dict[str, Any]:
    """What the report page and the PDF show, from the stored assessment."""
    report = version.assessment
    risk = report.get("risk", {})
    before, after = risk.get("before") or {}, risk.get("after") or {}
    columns = [
        {
            "name": c["name"],
            "entity": c.get("entity") or "",
            "score": c.get("score") or 0.0,
            "action": c["action"],
            "effect": ACTION_EFFECTS.get(c["action"], c["action"]),
            "params": c.get("params") or {},
            "in_output": c.get("in_output", True),
            "type": c.get("type", "string"),
        }
        for c in report.get("columns", [])
    ]
    measures = [
        (N_("highest re-identification risk"), before.get("max_risk"), after.get("max_risk")),
        (
            N_("average re-identification risk"),
            before.get("average_risk"),
            after.get("average_risk"),
        ),
        (
            N_("share of unique records"),
            before.get("unique_records_share"),
            after.get("unique_records_share"),
        ),
        (
            N_("share of records below k"),
            before.get("records_below_k_share"),
            after.get("records_below_k_share"),
        ),
    ]
    return {
        "dataset": dataset,
        "version": version,
        "level": dataset.level.value,
        "ready": bool(report) and "failed" not in report,
        "failed": report.get("failed", ""),
        "created_at": report.get("created_at", ""),
        "source_sha256": report.get("input_sha256", ""),
        "output_sha256": report.get("output_sha256", ""),
        "rows_in": report.get("rows_in", 0),
        "rows_out": report.get("rows_out", 0),
        "rows_suppressed": report.get("rows_suppressed", 0),
        "k_requested": (report.get("k_anonymity") or {}).get("k_requested"),
        # with no k asked, the smallest group sharing the quasi-identifiers is the k there is
        "k_achieved": report.get("k_achieved") or after.get("smallest_class"),
        "quasi_identifiers": risk.get("quasi_identifiers", []),
        "risk_before": before,
        "risk_after": after,
        "measures": [(label, b or 0.0, a or 0.0) for label, b, a in measures],
        "residual": report.get("residual_personal_data", []),
        "columns": columns,
        "actions": sorted({c["action"] for c in columns}),
        "records_leave": dataset.level in (Level.L1, Level.L2),
        "policy_yaml": report.get("policy_yaml", version.policy_yaml),
    }
