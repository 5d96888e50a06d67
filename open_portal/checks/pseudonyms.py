"""Pseudonyms of the grant's release in an output: they would let the output be linked back to
the grant's records.

The release of an L2 grant is found wherever it lies (``open_portal.workspaces``: the sealed copy
at rest, the plain copy the workspace mounts); its pseudonyms are the values of the text columns
whose values all have the shape of ``desensitize.pseudonymize`` output, and those standing alone
in free text (``<PERSON:…>``, ``desensitize.pseudonymize_entities``). An output is flagged when
any of them appears in it, in any letter case, whole or cut to a prefix of at least
``MIN_PREFIX`` hex digits, alone or run together with other hex digits.
"""

from __future__ import annotations

import io
import re
from collections.abc import Collection, Iterable
from pathlib import Path

from open_portal.checks import CheckResult

MIN_PREFIX = 12  # 48 bits: a prefix this long still names one record among billions
HEX_RUN = re.compile(rf"[0-9a-fA-F]{{{MIN_PREFIX},}}")


def _embedded() -> str:
    from desensitize.pseudonym import PSEUDONYM_HEX

    return rf"<[A-Z_]+:[0-9a-f]{{{PSEUDONYM_HEX}}}>"


def _shape() -> re.Pattern[str]:
    from desensitize.pseudonym import PSEUDONYM_HEX

    return re.compile(rf"[0-9a-fA-F]{{{PSEUDONYM_HEX}}}")


def pseudonyms_in_tables(tables: Iterable[bytes | Path]) -> set[str]:
    """The pseudonyms in Parquet tables (contents or paths), lower-cased."""
    import polars as pl

    shape = _shape()
    found: set[str] = set()
    for table in tables:
        frame = pl.read_parquet(io.BytesIO(table) if isinstance(table, bytes) else table)
        for name, dtype in frame.schema.items():
            if dtype != pl.String:
                continue
            column = frame.get_column(name).drop_nulls()
            values = column.unique().to_list()
            if values and all(shape.fullmatch(v) for v in values):
                found.update(v.lower() for v in values)
                continue
            # free text whose entities took the grant's pseudonyms: <PERSON:…>
            embedded = column.str.extract_all(_embedded()).explode().drop_nulls().unique()
            found.update(v[v.index(":") + 1 : -1].lower() for v in embedded.to_list())
    return found


def grant_pseudonyms(release_dir: Path) -> set[str]:
    """The pseudonyms of every Parquet table under ``release_dir`` (at any depth)."""
    if not release_dir.is_dir():
        return set()
    return pseudonyms_in_tables(sorted(release_dir.rglob("*.parquet")))


def find(text: str, pseudonyms: Collection[str]) -> set[str]:
    """The pseudonyms of which ``text`` holds a prefix of ``MIN_PREFIX`` or more hex digits."""
    by_prefix = {p.lower()[:MIN_PREFIX]: p.lower() for p in pseudonyms}
    if not by_prefix:
        return set()
    hits = set()
    for run in HEX_RUN.findall(text):
        run = run.lower()
        for start in range(len(run) - MIN_PREFIX + 1):
            whole = by_prefix.get(run[start : start + MIN_PREFIX])
            if whole is not None:
                hits.add(whole)
    return hits


def check(text: str, pseudonyms: Collection[str]) -> CheckResult:
    hits = sorted(find(text, pseudonyms))
    if not hits:
        return CheckResult("pseudonyms", True, "no pseudonym of the grant", "未出现本授权的假名")
    return CheckResult(
        "pseudonyms",
        False,
        f"{len(hits)} pseudonyms of the grant's records appear in the file",
        f"文件中出现本授权记录的假名 {len(hits)} 个",
        {"count": len(hits), "examples": [h[:4] + "…" for h in hits[:5]]},
    )
