"""The exact statistics the noise is calibrated to: adding one person moves them by at most Δ.

Property tests over random tables and a random extra person (with more rows than the limit and
values far outside the bounds), plus literal reference implementations of the fast polars ones.
"""

from __future__ import annotations

import math
from typing import Any

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from desensitize.dp import DPSchema, prepare
from desensitize.dp.engine import _bin_counts, _grouped, _moments

DOMAIN = ["a", "b", "c"]

values = st.floats(min_value=-1e6, max_value=1e6) | st.just(math.nan)
rows = st.tuples(st.integers(0, 5), values, st.sampled_from([*DOMAIN, "z"]))
newcomer = st.lists(st.tuples(values, st.sampled_from([*DOMAIN, "z"])), min_size=1, max_size=6)


def schema_of(lower: float, width: float, k: int) -> DPSchema:
    return DPSchema.from_dict(
        {
            "columns": {
                "x": {"type": "numeric", "lower": lower, "upper": lower + width},
                "g": {"type": "categorical", "domain": DOMAIN},
            },
            "privacy_unit": {"column": "person", "max_contributions": k},
        }
    )


def frame_of(table: list[tuple[int, float, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "person": [r[0] for r in table],
            "x": [r[1] for r in table],
            "g": [r[2] for r in table],
        },
        schema={"person": pl.Int64, "x": pl.Float64, "g": pl.String},
    )


def statistics(table: list[tuple[int, float, str]], schema: DPSchema) -> dict[str, Any]:
    lf = prepare(frame_of(table).lazy(), schema)
    spec = schema.numeric("x")
    n, s1, s2 = _moments(lf, "x", spec, squares=True)
    counts = _grouped(lf, ["g"], pl.len())
    sums = _grouped(lf, ["g"], pl.col("x").sum())
    return {
        "rows": lf.collect().height,
        "n": n,
        "s1": s1,
        "s2": s2,
        "sum": float(lf.select(pl.col("x").sum()).collect().item() or 0.0),
        "bins": _bin_counts(lf, "x", spec.lower, spec.upper, 7),
        "groups": [counts.get((g,), 0) for g in DOMAIN],
        "group_sums": [float(sums.get((g,), 0.0) or 0.0) for g in DOMAIN],
    }


@settings(max_examples=80, deadline=None)
@given(
    table=st.lists(rows, max_size=40),
    extra=newcomer,
    lower=st.floats(-1e3, 1e3),
    width=st.floats(0.5, 1e3),
    k=st.integers(1, 3),
)
def test_one_more_person_moves_each_statistic_by_at_most_its_sensitivity(
    table: list[tuple[int, float, str]],
    extra: list[tuple[float, str]],
    lower: float,
    width: float,
    k: int,
) -> None:
    schema = schema_of(lower, width, k)
    spec = schema.numeric("x")
    before = statistics(table, schema)
    after = statistics(table + [(99, x, g) for x, g in extra], schema)
    r, big = spec.radius, spec.magnitude
    slack = 1e-9 * (1 + big * big) * (1 + len(table))  # float rounding, far below any Δ
    assert 0 <= after["rows"] - before["rows"] <= k
    assert abs(after["n"] - before["n"]) <= k
    assert abs(after["s1"] - before["s1"]) <= k * r + slack
    assert abs(after["s2"] - before["s2"]) <= k * r * r / 2 + slack
    assert abs(after["sum"] - before["sum"]) <= k * big + slack
    assert sum(abs(a - b) for a, b in zip(after["bins"], before["bins"], strict=True)) <= k
    assert sum(abs(a - b) for a, b in zip(after["groups"], before["groups"], strict=True)) <= k
    moved = sum(abs(a - b) for a, b in zip(after["group_sums"], before["group_sums"], strict=True))
    assert moved <= k * big + slack


@settings(max_examples=60, deadline=None)
@given(
    xs=st.lists(st.floats(-1e4, 1e4) | st.none(), max_size=50),
    lower=st.floats(-1e7, 1e7),
    width=st.floats(0.5, 1e4),
    bins=st.integers(1, 12),
)
def test_fast_statistics_match_a_literal_reference(
    xs: list[float | None], lower: float, width: float, bins: int
) -> None:
    schema = DPSchema.from_dict(
        {"columns": {"x": {"type": "numeric", "lower": lower, "upper": lower + width}}}
    )
    spec = schema.numeric("x")
    lf = prepare(pl.DataFrame({"x": xs}, schema={"x": pl.Float64}).lazy(), schema)
    n, s1, s2 = _moments(lf, "x", spec, squares=True)
    clipped = [min(max(x, spec.lower), spec.upper) for x in xs if x is not None]
    m, r = spec.midpoint, spec.radius
    assert n == len(clipped)
    scale = (1 + abs(m) + r) ** 2 * (1 + len(clipped))
    assert math.isclose(s1, sum(x - m for x in clipped), abs_tol=1e-9 * scale)
    reference = sum((x - m) ** 2 - r * r / 2 for x in clipped)
    assert math.isclose(s2, reference, abs_tol=1e-9 * scale)
    step = (spec.upper - spec.lower) / bins
    expected = [0] * bins
    for x in clipped:
        expected[min(int((x - spec.lower) // step), bins - 1)] += 1
    assert _bin_counts(lf, "x", spec.lower, spec.upper, bins) == expected
