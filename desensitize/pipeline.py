"""``desensitize_table``: read, apply a policy, suppress, write atomically, report."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import polars as pl
from tqdm import tqdm

from desensitize import detect
from desensitize.config import settings
from desensitize.exceptions import Error, UnreadableFileError
from desensitize.kanon import after_suppression, class_sizes, risk, suppress
from desensitize.policy import (
    Action,
    Policy,
    default_policy,
    is_quasi_identifier,
    validate_policy,
)
from desensitize.pseudonym import check_key
from desensitize.report import ReleaseReport, report_path
from desensitize.scan import TableScan, scan_frame, scan_sample, scan_table
from desensitize.tableio import (
    atomic_path,
    check_output,
    column_type_casts,
    read_table,
    sha256_file,
    sink_to,
    transformed_source,
)
from desensitize.transforms import apply_policy, prompt_gil_handover, python_actions


def _quasi_identifiers(policy: Policy, scan: TableScan, kept: list[str]) -> list[str]:
    """Declared quasi-identifiers, else the kept columns that look like ones (for the risk)."""
    if policy.k_anonymity:
        return list(policy.k_anonymity.quasi_identifiers)
    return [c.name for c in scan.columns if c.name in kept and is_quasi_identifier(c)]


def _column_entries(policy: Policy, scan: TableScan, types: dict[str, str]) -> list[dict[str, Any]]:
    entries = []
    for finding in scan.columns:
        rule = policy.rule(finding.name)
        params = rule.model_dump(mode="json", exclude_defaults=True, exclude={"action"})
        entries.append(
            {
                "name": finding.name,
                "entity": finding.entity,
                "score": finding.score,
                "action": rule.action.value,
                "params": params,
                "in_output": rule.action != Action.DROP,
                "type": types.get(finding.name, "string")
                if rule.action == Action.KEEP
                else "string",
            }
        )
    return entries


# Columns whose output is personal-data free by construction (pseudonyms are hex digests).
CLEAN_BY_CONSTRUCTION = {Action.DROP, Action.PSEUDONYMIZE, Action.REDACT, Action.KEEP}


def _residual(
    out: Path, policy: Policy, columns: list[str], name_model: bool = True
) -> list[dict[str, Any]]:
    """Personal data that masked or generalized columns still hold, in a sample of the output."""
    checked = [c for c in columns if policy.rule(c).action not in CLEAN_BY_CONSTRUCTION]
    if not checked:
        return []
    sample = read_table(out).select(checked).head(settings().sample_rows).collect()
    found = scan_frame(sample.with_columns(pl.all().cast(pl.String)), name_model=name_model)
    return [{"name": c.name, "entity": c.entity, "share": c.share} for c in found.identifiers]


def _progress(
    total: int | None,
) -> tuple[Callable[[pl.DataFrame], pl.DataFrame], tqdm[Any]]:
    bar: tqdm[Any] = tqdm(
        total=total, unit="rows", unit_scale=True, disable=not sys.stderr.isatty(), leave=False
    )

    def count(batch: pl.DataFrame) -> pl.DataFrame:
        bar.update(batch.height)
        return batch

    return count, bar


def _quasi_class_sizes(
    frame: pl.LazyFrame, policy: Policy, scan: TableScan, quasi: list[str], *, key: bytes
) -> pl.DataFrame:
    """The equivalence classes over the quasi-identifiers as the policy leaves them."""
    only_quasi = policy.model_copy(
        update={"columns": {q: policy.rule(q) for q in quasi}, "k_anonymity": None}
    )
    return class_sizes(apply_policy(frame.select(quasi), only_quasi, scan, key=key), quasi)


def desensitize_frame(
    frame: pl.DataFrame, *, policy: Policy | None = None, key: bytes, level: str = "L2"
) -> pl.DataFrame:
    """``frame`` desensitized in memory: the scan of a sample, the policy's validation, its
    actions and k-anonymity suppression, as :func:`desensitize_table` does with files (there is
    no report: the report describes a file).

    The free text that a given policy redacts does not depend on the scan: it is redacted (polars
    work on two threads) while the scan, the validation and the other actions run.
    """
    check_key(key)
    early = _redacted_by(policy, frame.columns)
    with prompt_gil_handover(), ThreadPoolExecutor(max_workers=1) as pool:
        redacting = pool.submit(detect.redact_columns, frame.select(early), early)
        scan = scan_sample(frame.head(settings().sample_rows), frame.schema)
        policy = policy or default_policy(scan, level=level)
        validate_policy(policy, scan, columns=frame.columns)
        rest = policy.model_copy(
            update={"columns": {n: r for n, r in policy.columns.items() if n not in early}}
        )
        result = apply_policy(frame.lazy(), rest, scan, key=key).collect()
        result = result.with_columns(redacting.result().get_columns())
    if policy.k_anonymity:
        quasi = list(policy.k_anonymity.quasi_identifiers)
        sizes = _quasi_class_sizes(frame.lazy(), policy, scan, quasi, key=key)
        return suppress(result.lazy(), quasi, sizes, k=policy.k_anonymity.k).collect()
    return result


def _typed(frame: pl.LazyFrame, policy: Policy, types: dict[str, str]) -> pl.LazyFrame:
    """The columns that ``policy`` keeps as they are, given their ``types``."""
    kept = {n: t for n, t in types.items() if policy.rule(n).action == Action.KEEP}
    casts = column_type_casts(kept, frame.collect_schema())
    return frame.with_columns(casts) if casts else frame


def _redacted_by(policy: Policy | None, columns: list[str]) -> list[str]:
    """The columns whose free text ``policy`` redacts to ``<ENTITY_TYPE>`` (none without a
    policy)."""
    if policy is None:
        return []
    return [
        n
        for n, r in policy.columns.items()
        if r.action == Action.REDACT and not r.pseudonymize_entities and n in columns
    ]


def desensitize_table(
    source: Path,
    out: Path,
    *,
    policy: Policy | None = None,
    key: bytes,
    level: str = "L2",
    column_types: dict[str, str] | None = None,
    text_spans: pl.DataFrame | None = None,
) -> ReleaseReport:
    """Desensitize the table in ``source`` into ``out`` (Parquet or CSV by its extension).

    The policy is validated against a scan of the table (a default one is derived from the scan
    when none is given). The output and its report (``<out>.report.json``) appear only when both
    are complete. Files larger than memory stream through in batches. ``column_types`` (see
    :func:`desensitize.tableio.infer_column_types`) gives the columns the policy keeps as they are
    their type in the output; the others stay text. ``text_spans`` are spans kept for the free
    text of this very table (see :mod:`desensitize.spancache`): the columns they cover are
    redacted from them, without running the detector.
    """
    source, out = Path(source), check_output(Path(out))
    check_key(key)
    frame = read_table(source)
    names = frame.collect_schema().names()
    # with kept spans the model found at upload, a release runs no model: its scan (validation
    # only, the policy was chosen from the upload's scan) reads free text by the rules
    fresh = text_spans is None
    scan = scan_table(source, name_model=fresh)
    policy = policy or default_policy(scan, level=level)
    validate_policy(policy, scan, columns=names)
    kept = [n for n in names if policy.rule(n).action != Action.DROP]
    quasi = _quasi_identifiers(policy, scan, kept)
    k = policy.k_anonymity.k if policy.k_anonymity else 2
    try:
        sizes = None
        rows_in: int | None = None
        if policy.k_anonymity:  # suppression needs the class sizes before anything is written
            sizes = _quasi_class_sizes(frame, policy, scan, quasi, key=key)
            rows_in = int(sizes.get_column(sizes.columns[-1]).sum())
        count, bar = _progress(rows_in)
        function, changed = python_actions(policy, scan, key=key, spans=text_spans)
        schema = frame.collect_schema()
        out_schema = pl.Schema({n: (pl.String if n in changed else t) for n, t in schema.items()})

        def per_batch(batch: pl.DataFrame, first_row: int) -> pl.DataFrame:
            return count(function(batch, first_row) if function else batch)

        batches = transformed_source(source, per_batch, out_schema)
        result = apply_policy(batches, policy, scan, key=key, python_done=True)
        kept_sizes = sizes
        if policy.k_anonymity and sizes is not None:
            result = suppress(result, quasi, sizes, k=k)
            kept_sizes = after_suppression(sizes, k=k)
        result = _typed(result, policy, column_types or {})
        with atomic_path(out) as tmp_out, atomic_path(report_path(out)) as tmp_report:
            try:
                sink_to(result, tmp_out, parquet=out.suffix.lower() == ".parquet")
            finally:
                bar.close()
            # the sample of the output is scanned while the risk and digests are computed
            with ThreadPoolExecutor(max_workers=1) as pool:
                residual = pool.submit(_residual, tmp_out, policy, names, fresh)
                written = read_table(tmp_out)
                rows_out = int(written.select(pl.len()).collect().item())
                if rows_in is None:  # nothing suppressed: the risk is read off the output
                    rows_in = rows_out
                    sizes = kept_sizes = class_sizes(written, quasi) if quasi else None
                before = risk(sizes, k=k) if sizes is not None else None
                after = risk(kept_sizes, k=k) if kept_sizes is not None else None
                report = ReleaseReport(
                    source=source.name,
                    output=out.name,
                    input_sha256=sha256_file(source),
                    output_sha256=sha256_file(tmp_out),
                    rows_in=rows_in,
                    rows_out=rows_out,
                    rows_suppressed=rows_in - rows_out,
                    policy=policy.model_dump(mode="json"),
                    policy_yaml=policy.to_yaml(),
                    columns=_column_entries(policy, scan, column_types or {}),
                    k_requested=policy.k_anonymity.k if policy.k_anonymity else None,
                    k_achieved=after.smallest_class if after and policy.k_anonymity else None,
                    quasi_identifiers=quasi,
                    risk_before=before.to_json() if before else {},
                    risk_after=after.to_json() if after else {},
                    residual=residual.result(),
                    created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                )
            tmp_report.write_text(report.dumps(), encoding="utf-8")
    except Error:
        raise
    except pl.exceptions.PolarsError as exc:
        message = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise UnreadableFileError(f"{source}: cannot process table: {message}") from exc
    return report
