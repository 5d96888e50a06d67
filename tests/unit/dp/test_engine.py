"""Every kind of DP query on a table of people: bounded, domain-enumerated, JSON-serialisable."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import numpy as np
import polars as pl
import pytest
from diffprivlib.utils import PrivacyLeakWarning
from hypothesis import given, settings
from hypothesis import strategies as st

from desensitize.dp import (
    DPFrame,
    DPQuery,
    DPResult,
    DPSchema,
    SchemaError,
    contingency_table,
    prepare,
    run_query,
)
from desensitize.dp.query import QueryKind

DISTRICTS = ["西湖区", "上城区", "滨江区", "拱墅区"]


def ask(data: pl.DataFrame | DPFrame, schema: DPSchema, seed: int = 1, **query: Any) -> DPResult:
    source = data if isinstance(data, DPFrame) else data.lazy()
    return run_query(source, schema, DPQuery.parse(query), random_state=seed)


def clipped(frame: pl.DataFrame, column: str, lower: float, upper: float) -> pl.Series:
    return frame[column].cast(pl.Float64).clip(lower, upper)


def test_count_with_filters(frame: pl.DataFrame, schema: DPSchema) -> None:
    result = ask(
        frame,
        schema,
        kind="count",
        epsilon="1",
        filters=[
            {"column": "district", "op": "in", "value": ["西湖区", "上城区"]},
            {"column": "age", "op": "ge", "value": 18},
            {"column": "insured", "op": "eq", "value": True},
        ],
    )
    truth = frame.filter(
        pl.col("district").is_in(["西湖区", "上城区"]) & (pl.col("age") >= 18) & pl.col("insured")
    ).height
    assert isinstance(result.value, int)
    assert abs(result.value - truth) <= 3 * result.ci95
    assert result.ci95 == 3  # discrete Laplace at ε = 1: P(|noise| > 3) < 5%
    assert result.mechanism == "geometric"
    assert result.columns == ["district", "age", "insured"]


@pytest.mark.parametrize("kind", ["sum", "mean", "variance"])
def test_moments_are_close_to_the_clipped_truth(
    frame: pl.DataFrame, schema: DPSchema, kind: str
) -> None:
    income = clipped(frame, "income", 0, 50_000)
    truth = {"sum": income.sum(), "mean": income.mean(), "variance": income.var(ddof=0)}[kind]
    result = ask(frame, schema, kind=kind, column="income", epsilon="2")
    assert isinstance(result.value, float)
    assert abs(result.value - truth) <= 3 * result.ci95
    assert result.ci95 < 0.05 * abs(truth)  # informative, not just inside the bounds


def test_mean_stays_inside_the_bounds_on_tiny_data(schema: DPSchema) -> None:
    tiny = pl.DataFrame({"age": [99], "income": [1.0], "district": ["西湖区"], "insured": [True]})
    for seed in range(20):
        value = ask(tiny, schema, seed=seed, kind="mean", column="age", epsilon="0.1").value
        assert isinstance(value, float) and 0 <= value <= 100


def test_quantiles_come_from_the_declared_grid(frame: pl.DataFrame, schema: DPSchema) -> None:
    result = ask(frame, schema, kind="quantile", column="age", q=[0.1, 0.5, 0.9], epsilon="1.5")
    assert result.ci95_unit == "rank" and result.mechanism == "exponential"
    assert isinstance(result.value, list)
    ages = frame["age"]
    for row in result.value:
        assert row["value"] in set(np.linspace(0, 100, 1001))
        rank = (ages < row["value"]).sum()
        # rank error inside the advertised interval, plus one grid step of rows
        assert abs(rank - row["q"] * frame.height) <= result.ci95 + (ages == row["value"]).sum()


def test_histogram_bins_come_from_the_declared_bounds(
    frame: pl.DataFrame, schema: DPSchema
) -> None:
    result = ask(frame, schema, kind="histogram", column="age", bins=4, epsilon="1")
    assert isinstance(result.value, list)
    assert [(r["lower"], r["upper"]) for r in result.value] == [
        (0, 25),
        (25, 50),
        (50, 75),
        (75, 100),
    ]
    truth = [(frame["age"] // 25).eq(i).sum() for i in range(4)]
    for row, exact in zip(result.value, truth, strict=True):
        assert abs(row["value"] - exact) <= 3 * result.ci95


def test_group_keys_come_from_the_declared_domain(frame: pl.DataFrame, schema: DPSchema) -> None:
    result = ask(frame, schema, kind="group_count", group_by=["district", "insured"], epsilon="1")
    assert isinstance(result.value, list)
    keys = [(r["district"], r["insured"]) for r in result.value]
    # 拱墅区 has no rows and is still listed; the undeclared district is never shown
    assert keys == [(d, i) for d in DISTRICTS for i in (True, False)]
    by_key = {(r["district"], r["insured"]): r["value"] for r in result.value}
    assert abs(by_key[("拱墅区", True)]) <= 3 * result.ci95
    truth = frame.filter((pl.col("district") == "西湖区") & pl.col("insured")).height
    assert abs(by_key[("西湖区", True)] - truth) <= 3 * result.ci95


def test_group_sum(frame: pl.DataFrame, schema: DPSchema) -> None:
    result = ask(
        frame, schema, kind="group_sum", column="income", group_by=["district"], epsilon="2"
    )
    assert isinstance(result.value, list)
    assert [r["district"] for r in result.value] == DISTRICTS
    for row in result.value:
        part = frame.filter(pl.col("district") == row["district"])
        truth = clipped(part, "income", 0, 50_000).sum()
        assert abs(row["value"] - truth) <= 3 * result.ci95


def test_categorical_histogram_is_a_count_per_declared_value(
    frame: pl.DataFrame, schema: DPSchema
) -> None:
    result = ask(frame, schema, kind="histogram", column="district", epsilon="1")
    assert isinstance(result.value, list)
    assert [r["district"] for r in result.value] == DISTRICTS


def test_one_outlier_moves_a_sum_by_at_most_the_bound(schema: DPSchema) -> None:
    base = pl.DataFrame(
        {
            "age": [30, 40],
            "income": [1_000.0, 2_000.0],
            "district": ["西湖区"] * 2,
            "insured": [True] * 2,
        }
    )
    outlier = pl.concat(
        [
            base,
            pl.DataFrame(
                {"age": [10**9], "income": [1e300], "district": ["西湖区"], "insured": [True]}
            ),
        ],
        how="vertical_relaxed",
    )
    prepared = [prepare(f.lazy(), schema).collect() for f in (base, outlier)]
    assert prepared[1]["income"].sum() - prepared[0]["income"].sum() == 50_000
    assert prepared[1]["age"].max() == 100


def test_nan_and_null_are_not_values(schema: DPSchema) -> None:
    frame = pl.DataFrame(
        {
            "age": [None, 20, 40],
            "income": [float("nan"), None, 3_000.0],
            "district": ["西湖区", None, "未声明区"],
            "insured": [True, False, None],
        }
    )
    prepared = prepare(frame.lazy(), schema).collect()
    assert prepared["income"].to_list() == [None, None, 3_000.0]
    assert prepared["district"].to_list() == ["西湖区", None, None]
    result = ask(frame, schema, kind="count", column="income", epsilon="2", seed=3)
    assert isinstance(result.value, int) and abs(result.value - 1) <= 3 * result.ci95


def test_prepared_frame_gives_the_same_answer(frame: pl.DataFrame, schema: DPSchema) -> None:
    prepared = DPFrame(frame, schema)
    for kind in ("count", "sum", "mean", "variance"):
        column = None if kind == "count" else "income"
        direct = ask(frame, schema, seed=9, kind=kind, column=column, epsilon="1")
        cached = ask(prepared, schema, seed=9, kind=kind, column=column, epsilon="1")
        assert direct == cached


def test_prepared_frame_must_match_the_metadata(
    frame: pl.DataFrame, schema: DPSchema, schema_dict: Callable[..., dict[str, Any]]
) -> None:
    prepared = DPFrame(frame, schema)
    other = DPSchema.from_dict(schema_dict(max_query_epsilon="1"))
    with pytest.raises(SchemaError, match="other metadata"):
        ask(prepared, other, kind="count", epsilon="1")


def test_data_must_have_the_declared_columns(
    frame: pl.DataFrame, schema_dict: Callable[..., dict[str, Any]]
) -> None:
    schema = DPSchema.from_dict(
        schema_dict(columns={"height": {"type": "numeric", "lower": 0, "upper": 3}})
    )
    with pytest.raises(SchemaError, match="lacks declared columns: height"):
        ask(frame, schema, kind="count", epsilon="1")
    schema = DPSchema.from_dict(
        schema_dict(columns={"phone": {"type": "numeric", "lower": 0, "upper": 3}})
    )
    with pytest.raises(SchemaError, match="declared numeric"):
        ask(frame, schema, kind="count", epsilon="1")


ALL_KINDS: list[dict[str, Any]] = [
    {"kind": "count"},
    {"kind": "count", "column": "age"},
    {"kind": "sum", "column": "income"},
    {"kind": "mean", "column": "income"},
    {"kind": "variance", "column": "age"},
    {"kind": "quantile", "column": "age", "q": 0.5},
    {"kind": "histogram", "column": "age"},
    {"kind": "group_count", "group_by": ["district"]},
    {"kind": "group_sum", "column": "income", "group_by": ["district"]},
]


@pytest.mark.parametrize("query", ALL_KINDS, ids=lambda q: q["kind"])
def test_results_are_json_and_never_warn_of_a_privacy_leak(
    frame: pl.DataFrame, schema: DPSchema, query: dict[str, Any]
) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run_query(frame.lazy(), schema, DPQuery.parse({**query, "epsilon": "0.5"}))
    assert not [w for w in caught if issubclass(w.category, PrivacyLeakWarning)]
    assert not caught
    assert result.kind == QueryKind(query["kind"])
    data = json.loads(result.model_dump_json())
    assert data["epsilon"] == "0.5"
    assert DPResult.model_validate(data).answer_hash() == result.answer_hash()
    assert result.query_hash == DPQuery.parse({**query, "epsilon": "0.5"}).fingerprint()


units = st.lists(st.integers(min_value=0, max_value=6), min_size=0, max_size=60)


@settings(max_examples=60, deadline=None)
@given(units=units, k=st.integers(min_value=1, max_value=4), gone=st.integers(0, 6))
def test_contribution_limit_is_per_person_and_stable(units: list[int], k: int, gone: int) -> None:
    """At most k rows per person, and removing one person never changes another's kept rows."""
    schema = DPSchema.from_dict(
        {
            "columns": {"row": {"type": "numeric", "lower": 0, "upper": 1000}},
            "privacy_unit": {"column": "person", "max_contributions": k},
            "contribution_seed": 12345,
        }
    )
    frame = pl.DataFrame(
        {"person": units, "row": list(range(len(units)))},
        schema={"person": pl.Int64, "row": pl.Float64},
    )
    kept = set(prepare(frame.lazy(), schema).collect()["row"].to_list())
    per_person: dict[int, int] = {}
    for person, row in zip(units, range(len(units)), strict=True):
        per_person[person] = per_person.get(person, 0) + (row in kept)
    assert all(count == min(k, units.count(p)) for p, count in per_person.items())
    without = frame.filter(pl.col("person") != gone)
    kept_without = set(prepare(without.lazy(), schema).collect()["row"].to_list())
    assert kept_without == {r for r in kept if units[int(r)] != gone}


@pytest.mark.parametrize("offset", [0.0, 1e7])
def test_variance_far_from_zero_is_accurate(offset: float) -> None:
    """Bounds far from zero take the centred pass instead of Σx² - 2mΣx + nm²."""
    schema = DPSchema.from_dict(
        {"columns": {"t": {"type": "numeric", "lower": offset, "upper": offset + 100}}}
    )
    values = offset + np.random.default_rng(4).uniform(0, 100, 50_000)
    frame = pl.DataFrame({"t": values})
    result = ask(frame, schema, kind="variance", column="t", epsilon="1")
    truth = float(np.var(values))
    assert isinstance(result.value, float)
    assert abs(result.value - truth) <= 3 * result.ci95 < 0.05 * truth


def test_contingency_table_covers_every_declared_cell(
    frame: pl.DataFrame, schema: DPSchema
) -> None:
    table, result = contingency_table(
        frame.lazy(), schema, ["district", "insured"], "0.5", random_state=2
    )
    assert table.columns == ["district", "insured", "count"]
    assert table.height == len(DISTRICTS) * 2
    assert table["count"].min() >= 0  # negatives clamped after the noise
    assert result.epsilon == Decimal("0.5") and result.mechanism == "geometric"
    exact = frame.filter((pl.col("district") == "上城区") & ~pl.col("insured")).height
    cell = table.filter((pl.col("district") == "上城区") & ~pl.col("insured"))["count"].item()
    assert abs(cell - exact) <= 3 * result.ci95
