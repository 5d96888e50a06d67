"""Pseudonyms of the grant appearing in an output: they would let the output be linked back to
the grant's records."""

from __future__ import annotations

import re
from collections.abc import Collection
from pathlib import Path

from open_portal.checks import CheckResult

TOKEN = re.compile(r"[A-Za-z0-9_\-+/=:.]{8,}")
MIN_LENGTH = 8


def grant_pseudonyms(release_dir: Path, *, min_unique_share: float = 0.5) -> set[str]:
    """The pseudonym values of a grant's release: the text columns of its files that hold
    (nearly) one distinct value per record, as keyed pseudonyms of identifiers do."""
    import polars as pl

    found: set[str] = set()
    if not release_dir.is_dir():
        return found
    for path in sorted(release_dir.glob("*.parquet")):
        frame = pl.read_parquet(path)
        if frame.height == 0:
            continue
        for name, dtype in frame.schema.items():
            if dtype != pl.String:
                continue
            column = frame.get_column(name).drop_nulls()
            if column.n_unique() < min_unique_share * frame.height:
                continue
            found.update(v for v in column.unique().to_list() if len(v) >= MIN_LENGTH)
    return found


def check(text: str, pseudonyms: Collection[str]) -> CheckResult:
    known = pseudonyms if isinstance(pseudonyms, (set, frozenset)) else set(pseudonyms)
    hits = sorted({t for t in TOKEN.findall(text) if t in known}) if known else []
    if not hits:
        return CheckResult("pseudonyms", True, "no pseudonym of the grant", "未出现本授权的假名")
    return CheckResult(
        "pseudonyms",
        False,
        f"{len(hits)} pseudonyms of the grant's records appear in the file",
        f"文件中出现本授权记录的假名 {len(hits)} 个",
        {"count": len(hits), "examples": [h[:4] + "…" for h in hits[:5]]},
    )
