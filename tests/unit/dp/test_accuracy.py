"""Accuracy before spending, from declared metadata only; answers rounded to what noise allows."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import polars as pl
import pytest

from desensitize.dp import DPQuery, DPSchema, QueryError, run_query
from desensitize.dp.accuracy import (
    half_width,
    preview,
    resolution,
    round_to,
    rounded,
    significant,
)

QUERIES: list[dict[str, Any]] = [
    {"kind": "count", "epsilon": "0.5"},
    {"kind": "count", "epsilon": "0.01", "filters": [{"column": "age", "op": "ge", "value": 18}]},
    {"kind": "sum", "column": "income", "epsilon": "0.3"},
    {"kind": "group_sum", "column": "income", "group_by": ["district"], "epsilon": "1"},
    {"kind": "group_count", "group_by": ["district", "insured"], "epsilon": "0.2"},
    {"kind": "histogram", "column": "age", "epsilon": "0.7"},
    {"kind": "quantile", "column": "age", "q": [0.25, 0.5], "epsilon": "0.4"},
]


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: f"{q['kind']}@{q['epsilon']}")
def test_preview_is_the_interval_the_answer_carries(
    frame: pl.DataFrame, schema: DPSchema, query: dict[str, Any]
) -> None:
    answer = run_query(frame.lazy(), schema, DPQuery.parse(query), random_state=3)
    shown = preview(schema, query)
    assert shown.ci95 == pytest.approx(answer.ci95, rel=1e-12)
    assert shown.epsilon == Decimal(query["epsilon"])
    assert shown.ci95_unit == answer.ci95_unit


def test_mean_preview_bounds_the_answer_for_the_rows_assumed(
    frame: pl.DataFrame, schema: DPSchema
) -> None:
    query = {"kind": "mean", "column": "income", "epsilon": "0.5"}
    with pytest.raises(QueryError, match="rows"):
        preview(schema, query)
    shown = preview(schema, query, rows=frame.height)
    assert shown.rows == frame.height
    for seed in range(20):
        answer = run_query(frame.lazy(), schema, DPQuery.parse(query), random_state=seed)
        assert answer.ci95 <= shown.ci95 * 1.001
    assert preview(schema, query, rows=100).ci95 > 10 * shown.ci95  # fewer rows, wider


@pytest.mark.parametrize(
    ("query", "wanted"),
    [
        ({"kind": "count"}, 10.0),
        ({"kind": "sum", "column": "income"}, 250_000.0),
        ({"kind": "mean", "column": "age", "rows": 5_000}, 0.5),
        ({"kind": "quantile", "column": "age", "q": 0.5}, 200.0),
    ],
)
def test_the_least_epsilon_for_a_wanted_accuracy(
    schema: DPSchema, query: dict[str, Any], wanted: float
) -> None:
    rows = query.pop("rows", None)
    found = preview(schema, query, ci95=wanted, rows=rows)
    assert found.reachable
    assert found.ci95 <= wanted
    assert found.ci95 == half_width(
        schema, DPQuery.parse({**query, "epsilon": str(found.epsilon)}), rows=rows
    )
    # one unit less in its second significant digit is not enough
    unit = Decimal(1).scaleb(found.epsilon.adjusted() - 1)
    less = DPQuery.parse({**query, "epsilon": str(found.epsilon - unit)})
    assert half_width(schema, less, rows=rows) > wanted
    assert len(found.epsilon.as_tuple().digits) <= 2


def test_an_accuracy_beyond_the_cap_says_so(schema: DPSchema) -> None:
    found = preview(schema, {"kind": "sum", "column": "income"}, ci95=1.0)
    assert not found.reachable
    assert found.epsilon == schema.max_query_epsilon == Decimal("2")
    assert found.ci95 > 1.0


def test_the_preview_refuses_what_the_query_would(schema: DPSchema) -> None:
    with pytest.raises(QueryError, match="not declared"):
        preview(schema, {"kind": "sum", "column": "phone", "epsilon": "0.1"})
    with pytest.raises(QueryError, match="cap"):
        preview(schema, {"kind": "count", "epsilon": "5"})
    with pytest.raises(QueryError, match="positive"):
        preview(schema, {"kind": "count"}, ci95=-1)


@pytest.mark.parametrize(
    ("ci95", "step"),
    [(431_500.0, 10_000.0), (3.0, 0.1), (0.048, 0.001), (10.0, 1.0), (0.0, None)],
)
def test_resolution_is_a_tenth_of_the_leading_decade(ci95: float, step: float | None) -> None:
    assert resolution(ci95) == (pytest.approx(step) if step else None)


def test_values_rounded_to_their_resolution() -> None:
    assert round_to(672000.0000006985, resolution(431_500.0)) == 670_000.0
    assert round_to(37.4567, resolution(0.5)) == 37.46
    assert round_to(1234, resolution(3.0)) == 1234  # counts stay exact integers
    assert round_to(123_456, resolution(40_000.0)) == 123_000
    assert round_to(True, 1.0) is True
    assert significant(431_500.0) == 440_000.0
    assert significant(0.0481) == 0.049


def test_a_grouped_sum_is_released_rounded(frame: pl.DataFrame, schema: DPSchema) -> None:
    query = DPQuery.parse(
        {"kind": "group_sum", "column": "income", "group_by": ["district"], "epsilon": "0.05"}
    )
    raw = run_query(frame.lazy(), schema, query, random_state=5)
    shown = rounded(raw, schema)
    assert shown.resolution == resolution(raw.ci95)
    assert isinstance(shown.value, list) and isinstance(raw.value, list)
    for before, after in zip(raw.value, shown.value, strict=True):
        assert abs(after["value"] - before["value"]) <= shown.resolution / 2 + 1e-6
        multiple = after["value"] / shown.resolution
        assert math.isclose(multiple, round(multiple), abs_tol=1e-6)
    assert shown.answer_hash() != raw.answer_hash()


def test_quantiles_are_rounded_to_their_grid(frame: pl.DataFrame, schema: DPSchema) -> None:
    query = DPQuery.parse({"kind": "quantile", "column": "age", "q": 0.5, "epsilon": "1"})
    shown = rounded(run_query(frame.lazy(), schema, query, random_state=1), schema)
    assert shown.resolution == pytest.approx(0.01)  # grid step 0.1 on [0, 100]
    assert shown.value == round(float(shown.value), 2)  # type: ignore[arg-type]
