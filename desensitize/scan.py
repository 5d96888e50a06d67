"""Column scan: which columns of a table hold which kind of personal data, from a sample."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from desensitize import vectorized
from desensitize.config import settings
from desensitize.tableio import as_text, read_table, reading
from desensitize.textscan import find_entities_in, rule_entities

# How sure a match of each rule is: check digits are certain, formats less so.
CONFIDENCE = {
    "CN_ID_CARD": 1.0,
    "CN_USCC": 1.0,
    "CN_BANK_CARD": 1.0,
    "CN_MOBILE": 0.95,
    "PHONE_NUMBER": 0.9,
    "EMAIL_ADDRESS": 0.95,
    "CN_LICENSE_PLATE": 0.9,
    "CN_PASSPORT": 0.85,
    "CN_HKMO_PERMIT": 0.85,
    "ADDRESS": 0.85,
    "PERSON": 0.8,
}
FREE_TEXT_MIN_CHARS = 12


@dataclass
class ColumnFinding:
    """What a column holds: ``entity`` (or ``None``), how sure (``score``), and the ``share`` of
    sampled values that are that entity. ``shape`` tells numbers, dates, short text and free text
    apart; for free text, ``entity`` is the commonest entity inside and ``share`` the share of
    cells with any."""

    name: str
    entity: str | None
    score: float
    share: float
    shape: str = "text"
    inside: dict[str, int] = field(default_factory=dict)

    @property
    def free_text(self) -> bool:
        return self.shape == "free_text"


@dataclass
class TableScan:
    """The findings of every column of one table."""

    columns: list[ColumnFinding]
    sampled_rows: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"sampled_rows": self.sampled_rows, "columns": [asdict(c) for c in self.columns]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TableScan:
        return cls(
            columns=[ColumnFinding(**c) for c in data.get("columns", [])],
            sampled_rows=int(data.get("sampled_rows", 0)),
        )

    def column(self, name: str) -> ColumnFinding | None:
        return next((c for c in self.columns if c.name == name), None)

    @property
    def identifiers(self) -> list[ColumnFinding]:
        """Columns that hold personal data, whole or inside free text."""
        return [c for c in self.columns if c.entity is not None]


def _mean(flags: pl.Series) -> float:
    """The share of true values (0 for none)."""
    return float(flags.sum()) / flags.len() if flags.len() else 0.0


def _shape(values: pl.Series, dtype: pl.DataType) -> str:
    if values.is_empty():
        return "empty"
    if dtype.is_numeric() or values.str.contains(r"^-?[0-9]+(?:\.[0-9]+)?$").all():
        return "number"
    if dtype.is_temporal() or values.str.contains(r"^\d{4}[-/]\d{1,2}[-/]\d{1,2}").all():
        return "date"
    mean_chars = values.str.len_chars().mean()
    wordy = _mean(values.str.contains(r"[\p{Han}\s]"))
    if isinstance(mean_chars, float) and mean_chars >= FREE_TEXT_MIN_CHARS and wordy >= 0.5:
        return "free_text"
    return "text"


def _rule_shares(values: dict[str, pl.Series]) -> dict[str, dict[str, float]]:
    """For each column, the share of its values that each whole-cell rule accepts (one query, so
    that every pattern is compiled and run once)."""
    long = (
        pl.concat(
            [pl.DataFrame({"column": name, "v": v}) for name, v in values.items() if v.len()],
            how="vertical",
        )
        if any(v.len() for v in values.values())
        else pl.DataFrame({"column": [], "v": []}, schema={"column": pl.String, "v": pl.String})
    )
    shares = (
        long.lazy()
        .group_by("column")
        .agg(vectorized.cell_is(e, pl.col("v")).mean().alias(e) for e in vectorized.CELL_RULES)
        .collect()
    )
    return {row.pop("column"): row for row in shares.to_dicts()}


def _free_text_finding(
    name: str, values: pl.Series, shape: str, name_model: bool = True
) -> ColumnFinding:
    """What the free text of a column holds, found as the release will find it (rules and the
    name model, as :func:`desensitize.detect.detect_text_spans`), or by the rules alone."""
    texts = values.cast(pl.String).to_list()
    # a sample: not counted as detection for a dataset version's kept spans
    spans = find_entities_in(texts) if name_model else [rule_entities(t) for t in texts]
    changed = _mean(pl.Series([bool(found) for found in spans], dtype=pl.Boolean))
    inside = Counter(s.entity for found in spans for s in found)
    counts = dict(inside.most_common())
    if changed >= settings().text_min_share and counts:
        share = round(changed, 3)
        return ColumnFinding(name, next(iter(counts)), share, share, shape, counts)
    return ColumnFinding(name, None, 0.0, round(changed, 3), shape, counts)


def scan_frame(frame: pl.DataFrame, *, name_model: bool = True) -> TableScan:
    """Scan an in-memory sample (``name_model=False``: free text read by the rules alone).

    Free-text columns are read for entities inside them in a second thread while the whole-cell
    rules run (both are mostly polars work, which releases the GIL); a column whose cells are
    themselves identifiers (long addresses, say) does not need that reading, and it is dropped.
    """
    values: dict[str, pl.Series] = {}
    for name in frame.columns:
        column = frame.get_column(name).cast(pl.String).str.strip_chars().drop_nulls()
        values[name] = column.filter(column != "")
    shapes = {name: _shape(values[name], frame.schema[name]) for name in frame.columns}
    with ThreadPoolExecutor(max_workers=1) as pool:
        inside = {
            name: pool.submit(_free_text_finding, name, values[name], shape, name_model)
            for name, shape in shapes.items()
            if shape == "free_text"
        }
        shares = _rule_shares(values)
        findings = [
            _finding(name, shapes[name], shares.get(name, {}), inside.get(name))
            for name in frame.columns
        ]
    return TableScan(findings, frame.height)


def _finding(
    name: str, shape: str, shares: Mapping[str, float | None], inside: Future[ColumnFinding] | None
) -> ColumnFinding:
    """A column's finding from its shape, its whole-cell rule shares and, for free text, what
    was found inside it."""
    if shape == "empty":
        return ColumnFinding(name, None, 0.0, 0.0, shape)
    entity, share = max(shares.items(), key=lambda item: (item[1] or 0.0, CONFIDENCE[item[0]]))
    share = share or 0.0
    if share >= settings().min_share:
        if inside is not None:
            inside.cancel()
        score = round(share * CONFIDENCE[entity], 3)
        shape = "text" if shape == "free_text" else shape
        return ColumnFinding(name, entity, score, round(share, 3), shape)
    if inside is not None:
        return inside.result()
    return ColumnFinding(name, None, 0.0, round(share, 3), shape)


def scan_sample(sample: pl.DataFrame, schema: pl.Schema, *, name_model: bool = True) -> TableScan:
    """Scan the sampled rows of a table whose columns have the types in ``schema``."""
    scan = scan_frame(as_text(sample.lazy()).collect(), name_model=name_model)
    for finding in scan.columns:
        if finding.shape == "text" and schema[finding.name].is_numeric():
            finding.shape = "number"
    return scan


def scan_table(path: Path, *, sample_rows: int | None = None, name_model: bool = True) -> TableScan:
    """Scan the first ``sample_rows`` rows of the table in ``path`` (``name_model=False``: free
    text read by the rules alone, as a release from kept spans does: it runs no model)."""
    n = sample_rows or settings().sample_rows
    frame = read_table(Path(path))
    schema = frame.collect_schema()
    with reading(Path(path)):
        sample = frame.head(n).collect()
    return scan_sample(sample, schema, name_model=name_model)
