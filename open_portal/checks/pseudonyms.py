"""Pseudonyms of the grant appearing in an output: they would let the output be linked back to
the grant's records."""

from __future__ import annotations

import re
from collections.abc import Collection
from pathlib import Path

from open_portal.checks import CheckResult


def _shape() -> re.Pattern[str]:
    from desensitize.pseudonym import PSEUDONYM_HEX

    return re.compile(rf"[0-9a-f]{{{PSEUDONYM_HEX}}}")


def grant_pseudonyms(release_dir: Path) -> set[str]:
    """The pseudonyms in a grant's release: every value of its text columns whose values all
    have the shape of a keyed pseudonym (``desensitize.pseudonymize``)."""
    import polars as pl

    shape = _shape()
    found: set[str] = set()
    if not release_dir.is_dir():
        return found
    for path in sorted(release_dir.glob("*.parquet")):
        frame = pl.read_parquet(path)
        for name, dtype in frame.schema.items():
            if dtype != pl.String:
                continue
            values = frame.get_column(name).drop_nulls().unique().to_list()
            if values and all(shape.fullmatch(v) for v in values):
                found.update(values)
    return found


def check(text: str, pseudonyms: Collection[str]) -> CheckResult:
    known = pseudonyms if isinstance(pseudonyms, (set, frozenset)) else set(pseudonyms)
    hits = sorted({t for t in _shape().findall(text) if t in known}) if known else []
    if not hits:
        return CheckResult("pseudonyms", True, "no pseudonym of the grant", "未出现本授权的假名")
    return CheckResult(
        "pseudonyms",
        False,
        f"{len(hits)} pseudonyms of the grant's records appear in the file",
        f"文件中出现本授权记录的假名 {len(hits)} 个",
        {"count": len(hits), "examples": [h[:4] + "…" for h in hits[:5]]},
    )
