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
import re
from dataclasses import dataclass

import polars as pl

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


SUPPRESSED_PL = r"(?i)^\s*(\*+|x|c|-|–|—|\.\.|suppressed|<\s*\d+|已抑制|抑制)?\s*$"


@dataclass
class Column:
    name: str
    values: pl.Series  # Float64; null where suppressed or empty
    suppressed: pl.Series  # Boolean: a suppression mark (not just an empty cell)
    integer: bool


@dataclass
class Table:
    frame: pl.DataFrame  # the key (text) columns
    keys: list[str]
    numbers: dict[str, Column]
    rows: int


def parse_table(data: bytes) -> Table | None:
    """A CSV as key (text) columns and number columns; None when it is not a table."""
    try:
        frame = pl.read_csv(io.BytesIO(data), infer_schema=False, truncate_ragged_lines=True)
    except Exception:
        return None
    if frame.height == 0 or frame.width < 2:
        return None
    keys: list[str] = []
    numbers: dict[str, Column] = {}
    for name in frame.columns:
        cells = frame.get_column(name).fill_null("").str.strip_chars()
        marked = cells.str.contains(SUPPRESSED_PL)
        parsed = cells.str.replace_all(",", "").cast(pl.Float64, strict=False)
        finite = parsed.is_not_null() & parsed.is_finite()
        is_number = bool((finite | marked).all()) and bool(finite.any())
        if is_number and not KEY_NAME.search(name):
            values = parsed.set(~finite, None)
            present = values.drop_nulls()
            numbers[name] = Column(
                name,
                values,
                marked & (cells != ""),
                bool((present.round(0) == present).all()),
            )
        else:
            keys.append(name)
    if not numbers:
        return None
    key_frame = frame.select([pl.col(k).fill_null("") for k in keys])
    return Table(key_frame, keys, numbers, frame.height)


def _label(table: Table, row: int, column: str) -> str:
    key = " / ".join(str(table.frame.get_column(k)[row]) for k in table.keys) or f"row {row + 1}"
    return f"{key} · {column}"


def _fail(
    check: str, rule_en: str, rule_zh: str, cells: list[str], **details: object
) -> CheckResult:
    listed = cells[:MAX_LISTED]
    failing = details.pop("failing", len(cells))
    total = failing if isinstance(failing, int) else len(cells)
    return CheckResult(
        f"disclosure.{check}",
        False,
        f"{total} cells fail {rule_en}: {'; '.join(listed)}",
        f"{total} 个单元格不满足{rule_zh}：{'；'.join(listed)}",
        {"cells": listed, "failing": total, **details},
    )


def _pass(check: str, rule_en: str, rule_zh: str, **details: object) -> CheckResult:
    return CheckResult(
        f"disclosure.{check}", True, f"{rule_en}: passed", f"{rule_zh}：通过", dict(details)
    )


def _total_row(table: Table) -> int | None:
    for k in table.keys:
        hits = (
            table.frame.get_column(k)
            .str.contains(TOTAL.pattern.replace("^", "(?i)^", 1))
            .arg_true()
        )
        if len(hits):
            return int(hits[0])
    return None


def _cell_count(table: Table, limits: Limits, counts: list[str]) -> CheckResult:
    rule_en, rule_zh = (
        f"the minimum cell count ({limits.min_cell_count})",
        f"最小单元格计数（{limits.min_cell_count}）",
    )
    small: list[str] = []
    failing = 0
    for name in counts:
        values = table.numbers[name].values
        rows = ((values > 0) & (values < limits.min_cell_count)).fill_null(False).arg_true()
        failing += len(rows)
        small += [_label(table, int(i), name) for i in rows[: MAX_LISTED - len(small)]]
    if failing:
        return _fail(
            "min_cell_count",
            rule_en,
            rule_zh,
            small,
            threshold=limits.min_cell_count,
            failing=failing,
        )
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
    if total_columns and inner:
        hidden = pl.DataFrame({c: table.numbers[c].suppressed for c in inner})
        ones = (hidden.sum_horizontal() == 1) & table.numbers[total_columns[0]].values.is_not_null()
        for i in ones.arg_true().to_list():
            hidden_column = next(c for c in inner if table.numbers[c].suppressed[i])
            revealed.append(_label(table, i, hidden_column))
    if total_row is not None:
        for c in inner:
            column = table.numbers[c]
            hidden_rows = [i for i in column.suppressed.arg_true().to_list() if i != total_row]
            if len(hidden_rows) == 1 and column.values[total_row] is not None:
                label = _label(table, hidden_rows[0], c)
                if label not in revealed:
                    revealed.append(label)
    if revealed:
        return _fail("totals", rule_en, rule_zh, revealed)
    return _pass("totals", rule_en, rule_zh)


def _dominance(table: Table, limits: Limits, magnitudes: list[str]) -> list[CheckResult]:
    frame = table.frame.with_columns(
        [table.numbers[m].values.abs().alias(f"__m{i}") for i, m in enumerate(magnitudes)]
    )
    cells = frame.group_by(table.keys, maintain_order=True).agg(
        pl.len().alias("__n"),
        *[pl.col(f"__m{i}").sum().alias(f"__t{i}") for i in range(len(magnitudes))],
        *[pl.col(f"__m{i}").drop_nulls().top_k(2).alias(f"__k{i}") for i in range(len(magnitudes))],
    )
    labels = cells.select(pl.concat_str([pl.col(k) for k in table.keys], separator=" / "))
    label = labels.to_series()
    small_rows = (cells.get_column("__n") < limits.min_cell_count).arg_true()
    small = [f"{label[i]} (n={cells.get_column('__n')[i]})" for i in small_rows[:MAX_LISTED]]
    p_fail: list[str] = []
    nk_fail: list[str] = []
    p_count = nk_count = 0
    for i, name in enumerate(magnitudes):
        parts = cells.select(
            pl.col(f"__t{i}").alias("total"),
            pl.col(f"__k{i}").list.get(0, null_on_oob=True).fill_null(0.0).alias("top1"),
            pl.col(f"__k{i}").list.get(1, null_on_oob=True).fill_null(0.0).alias("top2"),
        )
        total, top1, top2 = (parts.get_column(c) for c in ("total", "top1", "top2"))
        positive = total > 0
        p_rows = (positive & (total - top1 - top2 < limits.p_percent / 100 * top1)).arg_true()
        nk_rows = (positive & (top1 + top2 > limits.nk_k / 100 * total)).arg_true()
        if limits.nk_n != 2:  # the general n: sum of the n largest
            nk_rows = _nk_general(frame, table.keys, f"__m{i}", limits)
        p_count += len(p_rows)
        nk_count += len(nk_rows)
        p_fail += [f"{label[j]} · {name}" for j in p_rows[:MAX_LISTED]]
        nk_fail += [f"{label[j]} · {name}" for j in nk_rows[:MAX_LISTED]]
    c_en, c_zh = (
        f"the minimum cell count ({limits.min_cell_count} contributors)",
        f"最小单元格计数（{limits.min_cell_count} 个贡献者）",
    )
    p_en, p_zh = f"the p% rule (p = {limits.p_percent:g}%)", f"p% 规则（p = {limits.p_percent:g}%）"
    nk_en = f"nk dominance (n = {limits.nk_n}, k = {limits.nk_k:g}%)"
    nk_zh = f"nk 支配规则（n = {limits.nk_n}，k = {limits.nk_k:g}%）"
    return [
        _fail("min_cell_count", c_en, c_zh, small, failing=len(small_rows))
        if len(small_rows)
        else _pass("min_cell_count", c_en, c_zh),
        _fail("p_percent", p_en, p_zh, p_fail, failing=p_count)
        if p_count
        else _pass("p_percent", p_en, p_zh),
        _fail("nk_dominance", nk_en, nk_zh, nk_fail, failing=nk_count)
        if nk_count
        else _pass("nk_dominance", nk_en, nk_zh),
    ]


def _nk_general(frame: pl.DataFrame, keys: list[str], column: str, limits: Limits) -> pl.Series:
    cells = frame.group_by(keys, maintain_order=True).agg(
        pl.col(column).sum().alias("total"),
        pl.col(column).drop_nulls().top_k(limits.nk_n).sum().alias("top"),
    )
    total, top = cells.get_column("total"), cells.get_column("top")
    return ((total > 0) & (top > limits.nk_k / 100 * total)).arg_true()


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
    if table.keys and table.frame.n_unique() < table.rows:
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
