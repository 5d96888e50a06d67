"""k-anonymity over quasi-identifiers, and the re-identification risk figures of a release."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import polars as pl

SIZE = "__pds_class_size"


def class_sizes(frame: pl.LazyFrame, quasi_identifiers: list[str]) -> pl.DataFrame:
    """The equivalence classes (rows sharing every quasi-identifier) and their sizes."""
    return (
        frame.select(quasi_identifiers)
        .group_by(quasi_identifiers)
        .agg(pl.len().alias(SIZE))
        .collect(engine="streaming")
    )


def suppress(
    frame: pl.LazyFrame, quasi_identifiers: list[str], sizes: pl.DataFrame, *, k: int
) -> pl.LazyFrame:
    """Only the rows whose equivalence class has at least ``k`` rows."""
    kept = sizes.filter(pl.col(SIZE) >= k).select(quasi_identifiers).lazy()
    return frame.join(kept, on=quasi_identifiers, how="semi", nulls_equal=True)


@dataclass(frozen=True)
class Risk:
    """Prosecutor-model re-identification risk of a table over its quasi-identifiers."""

    records: int
    equivalence_classes: int
    smallest_class: int
    max_risk: float  # 1 / smallest class
    average_risk: float  # classes / records
    unique_records_share: float  # records alone in their class
    records_below_k_share: float  # records in classes smaller than k

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def risk(sizes: pl.DataFrame, *, k: int) -> Risk:
    """Risk figures from class sizes (only classes with at least one row)."""
    counts = sizes.get_column(SIZE) if SIZE in sizes.columns else pl.Series([], dtype=pl.UInt32)
    counts = counts.filter(counts > 0)
    records = int(counts.sum()) if counts.len() else 0
    if records == 0:
        return Risk(0, 0, 0, 0.0, 0.0, 0.0, 0.0)
    smallest = int(counts.min())  # type: ignore[arg-type]
    return Risk(
        records=records,
        equivalence_classes=counts.len(),
        smallest_class=smallest,
        max_risk=round(1 / smallest, 6),
        average_risk=round(counts.len() / records, 6),
        unique_records_share=round(int(counts.filter(counts == 1).sum()) / records, 6),
        records_below_k_share=round(int(counts.filter(counts < k).sum()) / records, 6),
    )


def after_suppression(sizes: pl.DataFrame, *, k: int) -> pl.DataFrame:
    """The classes that remain once classes smaller than ``k`` are suppressed."""
    return sizes.filter(pl.col(SIZE) >= k)
