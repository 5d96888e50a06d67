"""Statistical disclosure rules on tables, with ACRO's defaults.

- minimum cell count: a frequency below ``min_cell_count`` (10) fails (zeros are structural and pass);
- p% rule: a cell fails when the total minus its two largest contributions is less than p% (10%)
  of the largest, so the second-largest contributor could estimate the largest closely;
- nk dominance: a cell fails when its ``n`` (2) largest contributions exceed ``k``% (90%) of it;
- totals: a row or column total next to exactly one suppressed cell gives the cell back by
  subtraction.

An output file holds no contributions unless it lists records: p% and nk dominance are checked
where a table has several rows per combination of its key columns (each row one contribution to
the cell); an aggregate table gets the cell-count and totals rules.
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass

from open_portal.checks import CheckResult, Limits

COUNT_NAME = re.compile(
    r"(^|_|\b)(n|count|counts|freq|frequency|number|num|cases|persons|people)($|_|\b)"
    r"|人数|数量|频数|件数|次数|户数|个数|计数|人次",
    re.IGNORECASE,
)
KEY_NAME = re.compile(r"year|month|date|code|id$|^id|年|月|日期|代码|编码|编号", re.IGNORECASE)
TOTAL = re.compile(r"^\s*(total|totals|all|sum|合计|总计|总数|小计|全部)\s*$", re.IGNORECASE)
SUPPRESSED = re.compile(r"^\s*(\*+|x|c|-|–|—|\.\.|suppressed|<\s*\d+|已抑制|抑制)?\s*$", re.I)
MAX_LISTED = 20


@dataclass
class Column:
    name: str
    values: list[float | None]  # None: suppressed or empty
    suppressed: list[bool]
    integer: bool


@dataclass
class Table:
    keys: dict[str, list[str]]
    numbers: dict[str, Column]
    rows: int


def _number(text: str) -> float | None:
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def parse_table(data: bytes) -> Table | None:
    """A CSV as key (text) columns and number columns; None when it is not a table."""
    import polars as pl

    try:
        frame = pl.read_csv(io.BytesIO(data), infer_schema=False, truncate_ragged_lines=True)
    except Exception:
        return None
    if frame.height == 0 or frame.width < 2:
        return None
    keys: dict[str, list[str]] = {}
    numbers: dict[str, Column] = {}
    for name in frame.columns:
        cells = [c or "" for c in frame.get_column(name).to_list()]
        parsed = [None if SUPPRESSED.match(c) else _number(c) for c in cells]
        is_number = all(
            p is not None or SUPPRESSED.match(c) for p, c in zip(parsed, cells, strict=True)
        ) and any(p is not None for p in parsed)
        if is_number and not KEY_NAME.search(name):
            numbers[name] = Column(
                name,
                parsed,
                [p is None and c.strip() != "" for p, c in zip(parsed, cells, strict=True)],
                all(p is None or float(p).is_integer() for p in parsed),
            )
        else:
            keys[name] = cells
    if not numbers:
        return None
    return Table(keys, numbers, frame.height)


def _label(table: Table, row: int, column: str) -> str:
    key = " / ".join(v[row] for v in table.keys.values()) or f"row {row + 1}"
    return f"{key} · {column}"


def _fail(
    check: str, rule_en: str, rule_zh: str, cells: list[str], **details: object
) -> CheckResult:
    listed = cells[:MAX_LISTED]
    return CheckResult(
        f"disclosure.{check}",
        False,
        f"{len(cells)} cells fail {rule_en}: {'; '.join(listed)}",
        f"{len(cells)} 个单元格不满足{rule_zh}：{'；'.join(listed)}",
        {"cells": listed, "failing": len(cells), **details},
    )


def _pass(check: str, rule_en: str, rule_zh: str, **details: object) -> CheckResult:
    return CheckResult(
        f"disclosure.{check}", True, f"{rule_en}: passed", f"{rule_zh}：通过", dict(details)
    )


def _total_row(table: Table) -> int | None:
    for values in table.keys.values():
        for i, v in enumerate(values):
            if TOTAL.match(v):
                return i
    return None


def _cell_count(table: Table, limits: Limits, counts: list[str]) -> CheckResult:
    rule_en, rule_zh = (
        f"the minimum cell count ({limits.min_cell_count})",
        f"最小单元格计数（{limits.min_cell_count}）",
    )
    small = [
        _label(table, i, name)
        for name in counts
        for i, v in enumerate(table.numbers[name].values)
        if v is not None and 0 < v < limits.min_cell_count
    ]
    if small:
        return _fail("min_cell_count", rule_en, rule_zh, small, threshold=limits.min_cell_count)
    return _pass("min_cell_count", rule_en, rule_zh, columns=counts)


def _totals(table: Table, value_columns: list[str]) -> CheckResult:
    rule_en, rule_zh = (
        "the totals rule (a total next to one suppressed cell reveals it)",
        "合计规则（合计与唯一被抑制单元格可反推）",
    )
    revealed: list[str] = []
    total_columns = [c for c in value_columns if TOTAL.match(c)]
    inner = [c for c in value_columns if c not in total_columns]
    total_row = _total_row(table)
    if total_columns:
        for i in range(table.rows):
            hidden = [c for c in inner if table.numbers[c].suppressed[i]]
            if len(hidden) == 1 and table.numbers[total_columns[0]].values[i] is not None:
                revealed.append(_label(table, i, hidden[0]))
    if total_row is not None:
        for c in inner:
            column = table.numbers[c]
            hidden_rows = [i for i in range(table.rows) if i != total_row and column.suppressed[i]]
            if len(hidden_rows) == 1 and column.values[total_row] is not None:
                label = _label(table, hidden_rows[0], c)
                if label not in revealed:
                    revealed.append(label)
    if revealed:
        return _fail("totals", rule_en, rule_zh, revealed)
    return _pass("totals", rule_en, rule_zh)


def _dominance(table: Table, limits: Limits, magnitudes: list[str]) -> list[CheckResult]:
    groups: dict[tuple[str, ...], list[int]] = {}
    for i in range(table.rows):
        groups.setdefault(tuple(v[i] for v in table.keys.values()), []).append(i)
    small, p_fail, nk_fail = [], [], []
    for key, rows in groups.items():
        label = " / ".join(key)
        if len(rows) < limits.min_cell_count:
            small.append(f"{label} (n={len(rows)})")
        for name in magnitudes:
            values = sorted(
                (abs(v) for v in (table.numbers[name].values[i] for i in rows) if v is not None),
                reverse=True,
            )
            total = sum(values)
            if total <= 0:
                continue
            top1 = values[0]
            top2 = values[1] if len(values) > 1 else 0.0
            if total - top1 - top2 < limits.p_percent / 100 * top1:
                p_fail.append(f"{label} · {name}")
            if sum(values[: limits.nk_n]) > limits.nk_k / 100 * total:
                nk_fail.append(f"{label} · {name}")
    c_en, c_zh = (
        f"the minimum cell count ({limits.min_cell_count} contributors)",
        f"最小单元格计数（{limits.min_cell_count} 个贡献者）",
    )
    p_en, p_zh = f"the p% rule (p = {limits.p_percent:g}%)", f"p% 规则（p = {limits.p_percent:g}%）"
    nk_en = f"nk dominance (n = {limits.nk_n}, k = {limits.nk_k:g}%)"
    nk_zh = f"nk 支配规则（n = {limits.nk_n}，k = {limits.nk_k:g}%）"
    return [
        _fail("min_cell_count", c_en, c_zh, small)
        if small
        else _pass("min_cell_count", c_en, c_zh),
        _fail("p_percent", p_en, p_zh, p_fail) if p_fail else _pass("p_percent", p_en, p_zh),
        _fail("nk_dominance", nk_en, nk_zh, nk_fail)
        if nk_fail
        else _pass("nk_dominance", nk_en, nk_zh),
    ]


def check(kind: str, data: bytes, limits: Limits) -> list[CheckResult]:
    """The disclosure rules that apply to this file (none for what is not a CSV table)."""
    if kind != "csv":
        return []
    table = parse_table(data)
    if table is None:
        return [
            CheckResult(
                "disclosure", True, "not a table of numbers", "不是数值表格", {"table": False}
            )
        ]
    keys = tuple(table.keys)
    distinct = {tuple(v[i] for v in table.keys.values()) for i in range(table.rows)}
    if keys and len(distinct) < table.rows:
        # several rows per cell: each row is a contribution
        magnitudes = [n for n in table.numbers if not COUNT_NAME.search(n)]
        return _dominance(table, limits, magnitudes)
    value_columns = list(table.numbers)
    named_counts = [n for n in value_columns if COUNT_NAME.search(n)]
    counts = named_counts or [
        n
        for n in value_columns
        if table.numbers[n].integer and all(v is None or v >= 0 for v in table.numbers[n].values)
    ]
    results = [_cell_count(table, limits, counts)] if counts else []
    results.append(_totals(table, value_columns))
    magnitudes = [n for n in value_columns if n not in counts]
    if magnitudes and not counts:
        results.append(
            CheckResult(
                "disclosure.dominance",
                True,
                "magnitudes without contributions: p% and nk dominance cannot be checked here; "
                "reviewers should ask how many units each cell holds",
                "仅有汇总数值、没有贡献明细：无法检验 p% 与 nk 支配规则，请审核员核实每个单元格的单位数",
                {"columns": magnitudes},
            )
        )
    return results
