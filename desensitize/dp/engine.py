"""Run a DP query: the exact aggregate in one vectorised polars pass, then diffprivlib's noise.

``prepare`` turns raw data into what the mechanisms may see: declared columns only, numeric values
clipped to the declared bounds (NaN becomes null), categorical values outside the declared domain
nulled, and at most ``max_contributions`` rows per privacy unit. It is a lazy pipeline; ``DPFrame``
collects it once so that many queries on one dataset do not repeat it.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from decimal import Decimal
from typing import Any, Literal

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict

from desensitize.dp import mechanisms
from desensitize.dp.exceptions import SchemaError
from desensitize.dp.query import DPQuery, Filter, FilterOp, QueryKind
from desensitize.dp.schema import CategoricalColumn, DPSchema, NumericColumn

#: ε (or each part of a split ε) is shaved by this factor, so that the floats handed to the
#: mechanisms never add up to more than the decimal ε charged on the ledger.
_SPLIT_MARGIN = 1.0 - 1e-12


class DPResult(BaseModel):
    """A DP answer. For cells (histograms, groups) ``error_scale`` and ``ci95`` hold for each cell.

    ``error_scale`` is the standard deviation of the noise (approximate for mean and variance, which
    divide by a noisy count); ``ci95`` is the half-width of a 95% interval around the true value
    of the clipped, contribution-limited data, in value units or, for quantiles, in rows of
    rank. The portal releases it rounded to what the noise allows (``accuracy.rounded``).
    """

    model_config = ConfigDict(frozen=True)

    kind: QueryKind
    value: float | int | list[dict[str, Any]]
    epsilon: Decimal
    error_scale: float
    ci95: float
    ci95_unit: Literal["value", "rank"] = "value"
    mechanism: str
    columns: list[str]
    query_hash: str
    #: the step the released value was rounded to (``accuracy.rounded``); None: not rounded
    resolution: float | None = None

    def answer_hash(self) -> str:
        """SHA-256 of the canonical JSON of the answer: what the audit log records."""
        canonical = json.dumps(
            self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, separators=(",", ":")
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


class DPFrame:
    """Prepared (clipped, limited) data of one dataset, collected once and queried many times."""

    def __init__(self, data: pl.LazyFrame | pl.DataFrame, schema: DPSchema) -> None:
        self.schema = schema
        # One contiguous chunk per column: a parallel collect leaves many, which slows every scan.
        self.frame: pl.DataFrame = prepare(data.lazy(), schema).collect().rechunk()

    def lazy(self) -> pl.LazyFrame:
        return self.frame.lazy()


def _check_columns(lf: pl.LazyFrame, schema: DPSchema) -> dict[str, pl.DataType]:
    found = dict(lf.collect_schema())
    wanted = list(schema.columns)
    if schema.privacy_unit is not None:
        wanted.append(schema.privacy_unit.column)
    missing = [name for name in wanted if name not in found]
    if missing:
        raise SchemaError(
            f"数据缺少 DP 元数据声明的列 / the data lacks declared columns: {', '.join(missing)}"
        )
    return found


def _prepared_column(name: str, spec: NumericColumn | CategoricalColumn, dtype: Any) -> pl.Expr:
    col = pl.col(name)
    if isinstance(spec, NumericColumn):
        if not (dtype.is_numeric() or dtype == pl.Boolean):
            raise SchemaError(
                f"列 {name} 不是数值列 / column {name!r} is declared numeric, is {dtype}"
            )
        col = col.cast(pl.Float64)
        return col.fill_nan(None).clip(spec.lower, spec.upper).alias(name)
    sample = spec.domain[0]
    if isinstance(sample, bool):
        col = col.cast(pl.Boolean, strict=False)
    elif isinstance(sample, int):
        col = col.cast(pl.Int64, strict=False)
    else:
        col = col.cast(pl.String)
    kept: pl.Expr = pl.when(col.is_in(spec.domain)).then(col)
    if isinstance(sample, str):
        kept = kept.cast(pl.Enum([str(v) for v in spec.domain]))
    return kept.alias(name)


def prepare(lf: pl.LazyFrame, schema: DPSchema) -> pl.LazyFrame:
    """Declared columns only, clipped to bounds and domains, contribution-limited: lazily."""
    found = _check_columns(lf, schema)
    exprs = [_prepared_column(name, spec, found[name]) for name, spec in schema.columns.items()]
    unit = schema.privacy_unit
    if unit is None:
        return lf.select(exprs)
    # Keep at most k rows per person. Which ones is decided by a keyed hash of (person, position
    # of the row among that person's rows): it never looks at values, and one person's choice
    # does not depend on anyone else's rows, so adding or removing a person changes at most k
    # rows.
    position = pl.int_range(pl.len()).over(unit.column)
    key = pl.struct(pl.col(unit.column), position).hash(seed=schema.contribution_seed)
    keep = key.rank("ordinal").over(unit.column) <= unit.max_contributions
    return lf.select([*exprs, keep.alias("__keep")]).filter(pl.col("__keep")).drop("__keep")


def _filter_expr(flt: Filter) -> pl.Expr:
    col = pl.col(flt.column)
    value = flt.value
    match flt.op:
        case FilterOp.EQ:
            return col == value
        case FilterOp.NE:
            return col != value
        case FilterOp.IN:
            return col.is_in(value if isinstance(value, list) else [value])
        case FilterOp.LT:
            return col < value
        case FilterOp.LE:
            return col <= value
        case FilterOp.GT:
            return col > value
        case FilterOp.GE:
            return col >= value
    raise AssertionError(flt.op)  # pragma: no cover


def _split(epsilon: Decimal, parts: int) -> float:
    return float(epsilon / parts) * _SPLIT_MARGIN


def run_query(
    data: pl.LazyFrame | DPFrame,
    schema: DPSchema,
    query: DPQuery,
    *,
    random_state: int | np.random.RandomState | None = None,
) -> DPResult:
    """Validate ``query`` against ``schema``, aggregate ``data`` exactly, and release it with noise.

    ``data`` is raw data (prepared on the fly, in the same lazy pass) or a ``DPFrame``. Pass
    ``random_state`` only in tests: the default draws from ``secrets.SystemRandom``.
    """
    query.validate_for(schema)
    if isinstance(data, DPFrame):
        if data.schema != schema:
            raise SchemaError(
                "DPFrame 是用另一份元数据准备的 / DPFrame was prepared with other metadata"
            )
        lf = data.lazy()
    else:
        lf = prepare(data, schema)
    for flt in query.filters:
        lf = lf.filter(_filter_expr(flt))
    rng = np.random.RandomState(random_state) if isinstance(random_state, int) else random_state
    runner = _RUNNERS[query.kind]
    return runner(lf, schema, query, rng)


def _result(
    query: DPQuery,
    value: Any,
    released: mechanisms.Released,
    *,
    error_scale: float | None = None,
    ci95: float | None = None,
    unit: Literal["value", "rank"] = "value",
    mechanism: str | None = None,
) -> DPResult:
    return DPResult(
        kind=query.kind,
        value=value,
        epsilon=query.epsilon,
        error_scale=released.std if error_scale is None else error_scale,
        ci95=released.ci95 if ci95 is None else ci95,
        ci95_unit=unit,
        mechanism=mechanism or released.mechanism,
        columns=query.columns,
        query_hash=query.fingerprint(),
    )


def _count(lf: pl.LazyFrame, schema: DPSchema, query: DPQuery, rng: Any) -> DPResult:
    expr = pl.len() if query.column is None else pl.col(query.column).count()
    exact = lf.select(expr.alias("n")).collect().item()
    out = mechanisms.noisy_counts(
        [exact],
        epsilon=_split(query.epsilon, 1),
        sensitivity=schema.max_contributions,
        random_state=rng,
    )
    return _result(query, int(out.values[0]), out)


def _sum_bounds(schema: DPSchema, spec: NumericColumn) -> tuple[float, float]:
    return schema.max_rows * min(spec.lower, 0.0), schema.max_rows * max(spec.upper, 0.0)


def _sum(lf: pl.LazyFrame, schema: DPSchema, query: DPQuery, rng: Any) -> DPResult:
    assert query.column is not None
    spec = schema.numeric(query.column)
    exact = lf.select(pl.col(query.column).sum()).collect().item()
    lower, upper = _sum_bounds(schema, spec)
    out = mechanisms.noisy_sums(
        [exact],
        epsilon=_split(query.epsilon, 1),
        sensitivity=schema.max_contributions * spec.magnitude,
        lower=lower,
        upper=upper,
        random_state=rng,
    )
    return _result(query, out.values[0], out)


#: Below this |midpoint| / radius, Σ(x - m)² is taken as Σx² - 2mΣx + nm² without a temporary
#: column; the cancellation then costs at most about (1 + 8)² rounding errors per row, far below
#: the sensitivity r²/2. Wider offsets take the centred pass.
_ALGEBRAIC_OFFSET = 8.0


def _moments(
    lf: pl.LazyFrame, column: str, spec: NumericColumn, squares: bool
) -> tuple[int, float, float]:
    """Count, Σ(x - m) and Σ((x - m)² - r²/2) for the midpoint m and radius r, in one pass.

    Σ(x - m) is taken as Σx - m·n, which polars sums without a temporary column; the rounding this
    adds is many orders of magnitude below the sensitivity (and Snapping's grid).
    """
    col = pl.col(column)
    m = spec.midpoint
    algebraic = abs(m) <= _ALGEBRAIC_OFFSET * spec.radius
    exprs = [col.count().alias("n"), col.sum().alias("s")]
    if squares:
        squared = col * col if algebraic else (col - m) * (col - m)
        exprs.append(squared.sum().alias("q"))
    row = lf.select(exprs).collect().row(0)
    n, total = int(row[0]), float(row[1] or 0.0)
    s1 = total - m * n
    if not squares:
        return n, s1, 0.0
    q = float(row[2] or 0.0)
    centred_squares = q - 2.0 * m * total + n * m * m if algebraic else q
    return n, s1, centred_squares - n * spec.radius**2 / 2.0


def _mean(lf: pl.LazyFrame, schema: DPSchema, query: DPQuery, rng: Any) -> DPResult:
    assert query.column is not None
    spec = schema.numeric(query.column)
    k, r, n_max = schema.max_contributions, spec.radius, schema.max_rows
    n, s1, _ = _moments(lf, query.column, spec, squares=False)
    eps = _split(query.epsilon, 2)
    alpha = mechanisms.ALPHA / 2  # both parts inside their intervals with probability >= 95%
    count = mechanisms.noisy_counts([n], epsilon=eps, sensitivity=k, alpha=alpha, random_state=rng)
    total = mechanisms.noisy_sums(
        [s1],
        epsilon=eps,
        sensitivity=k * r,
        lower=-n_max * r,
        upper=n_max * r,
        alpha=alpha,
        random_state=rng,
    )
    denom = max(float(count.values[0]), 1.0)
    value = min(max(spec.midpoint + total.values[0] / denom, spec.lower), spec.upper)
    # |s1'/n' - s1/n| <= (|s1' - s1| + r |n' - n|) / n' because |s1 / n| <= r.
    ci = min((total.ci95 + r * count.ci95) / denom, 2 * r)
    std = min(float(np.hypot(total.std, r * count.std)) / denom, 2 * r)
    return _result(query, value, total, error_scale=std, ci95=ci, mechanism="geometric+snapping")


def _variance(lf: pl.LazyFrame, schema: DPSchema, query: DPQuery, rng: Any) -> DPResult:
    assert query.column is not None
    spec = schema.numeric(query.column)
    k, r, n_max = schema.max_contributions, spec.radius, schema.max_rows
    half_r2 = r * r / 2.0
    n, s1, s2 = _moments(lf, query.column, spec, squares=True)
    eps = _split(query.epsilon, 3)
    alpha = mechanisms.ALPHA / 3
    count = mechanisms.noisy_counts([n], epsilon=eps, sensitivity=k, alpha=alpha, random_state=rng)
    first = mechanisms.noisy_sums(
        [s1],
        epsilon=eps,
        sensitivity=k * r,
        lower=-n_max * r,
        upper=n_max * r,
        alpha=alpha,
        random_state=rng,
    )
    second = mechanisms.noisy_sums(
        [s2],
        epsilon=eps,
        sensitivity=k * half_r2,
        lower=-n_max * half_r2,
        upper=n_max * half_r2,
        alpha=alpha,
        random_state=rng,
    )
    denom = max(float(count.values[0]), 1.0)
    m1 = min(max(first.values[0] / denom, -r), r)
    m2 = min(max(second.values[0] / denom + half_r2, 0.0), r * r)
    value = min(max(m2 - m1 * m1, 0.0), r * r)
    e1 = (first.ci95 + r * count.ci95) / denom
    e2 = (second.ci95 + half_r2 * count.ci95) / denom
    ci = min(e2 + 2 * r * e1, r * r)
    std = min(
        float(
            np.hypot(second.std, half_r2 * count.std) + 2 * r * np.hypot(first.std, r * count.std)
        )
        / denom,
        r * r,
    )
    return _result(query, value, second, error_scale=std, ci95=ci, mechanism="geometric+snapping")


def _bin_counts(lf: pl.LazyFrame, column: str, lower: float, upper: float, bins: int) -> list[int]:
    """Counts of clipped values in ``bins`` equal bins of [lower, upper] (the last one closed).

    Values are already clipped, so the bin index is in [0, bins]; the index ``bins`` (x = upper) is
    folded into the last bin after aggregation, and nulls are skipped there too, which keeps the
    polars expression as cheap as a plain ``x // width``.
    """
    width = (upper - lower) / bins
    col = pl.col(column) if lower == 0 else pl.col(column) - lower
    grouped = lf.select((col // width).alias("i")).group_by("i").agg(pl.len()).collect()
    counts = [0] * bins
    for i, n in grouped.iter_rows():
        if i is not None:
            counts[min(max(int(i), 0), bins - 1)] += n
    return counts


def _quantile(lf: pl.LazyFrame, schema: DPSchema, query: DPQuery, rng: Any) -> DPResult:
    assert query.column is not None
    spec = schema.numeric(query.column)
    grid = schema.quantile_grid
    counts = _bin_counts(lf, query.column, spec.lower, spec.upper, grid)
    below = np.concatenate([[0], np.cumsum(counts)])  # rows below each of the grid+1 candidates
    total = int(below[-1])
    candidates = list(np.linspace(spec.lower, spec.upper, grid + 1))
    eps = _split(query.epsilon, len(query.quantiles))
    picks: list[tuple[float, mechanisms.Released]] = []
    for q in query.quantiles:
        # Utility -|rows below t - q n|: one person's k rows move it by at most k.
        utility = [float(-abs(b - q * total)) for b in below]
        out = mechanisms.exponential_choice(
            utility, candidates, epsilon=eps, sensitivity=schema.max_contributions, random_state=rng
        )
        picks.append((q, out))
    last = picks[-1][1]
    value: Any = (
        picks[0][1].values[0]
        if not isinstance(query.q, list)
        else [{"q": q, "value": out.values[0]} for q, out in picks]
    )
    return _result(query, value, last, unit="rank")


def _histogram(lf: pl.LazyFrame, schema: DPSchema, query: DPQuery, rng: Any) -> DPResult:
    assert query.column is not None
    spec = schema.columns[query.column]
    if isinstance(spec, CategoricalColumn):
        return _grouped_counts(lf, schema, query, [query.column], rng)
    bins = query.bins or schema.histogram_bins
    counts = _bin_counts(lf, query.column, spec.lower, spec.upper, bins)
    out = mechanisms.noisy_counts(
        counts,
        epsilon=_split(query.epsilon, 1),
        sensitivity=schema.max_contributions,
        random_state=rng,
    )
    edges = np.linspace(spec.lower, spec.upper, bins + 1)
    value = [
        {"lower": float(edges[i]), "upper": float(edges[i + 1]), "value": int(out.values[i])}
        for i in range(bins)
    ]
    return _result(query, value, out)


def _cells(schema: DPSchema, group_by: list[str]) -> list[tuple[Any, ...]]:
    return list(itertools.product(*(schema.categorical(name).domain for name in group_by)))


def _grouped(lf: pl.LazyFrame, group_by: list[str], agg: pl.Expr) -> dict[tuple[Any, ...], Any]:
    # Rows whose key is null (a value outside the declared domain) form groups that no declared
    # cell looks up, so they are never released.
    frame = lf.group_by(group_by).agg(agg.alias("__v")).collect()
    return {tuple(row[:-1]): row[-1] for row in frame.iter_rows()}


def _records(
    schema: DPSchema, group_by: list[str], cells: list[tuple[Any, ...]], values: list[Any]
) -> list[dict[str, Any]]:
    return [
        {**dict(zip(group_by, cell, strict=True)), "value": value}
        for cell, value in zip(cells, values, strict=True)
    ]


def _grouped_counts(
    lf: pl.LazyFrame, schema: DPSchema, query: DPQuery, group_by: list[str], rng: Any
) -> DPResult:
    exact = _grouped(lf, group_by, pl.len())
    cells = _cells(schema, group_by)
    out = mechanisms.noisy_counts(
        [exact.get(c, 0) for c in cells],
        epsilon=_split(query.epsilon, 1),
        sensitivity=schema.max_contributions,
        random_state=rng,
    )
    values = [int(v) for v in out.values]
    return _result(query, _records(schema, group_by, cells, values), out)


def _group_count(lf: pl.LazyFrame, schema: DPSchema, query: DPQuery, rng: Any) -> DPResult:
    if query.column is not None:
        lf = lf.filter(pl.col(query.column).is_not_null())
    return _grouped_counts(lf, schema, query, query.group_by, rng)


def _group_sum(lf: pl.LazyFrame, schema: DPSchema, query: DPQuery, rng: Any) -> DPResult:
    assert query.column is not None
    spec = schema.numeric(query.column)
    exact = _grouped(lf, query.group_by, pl.col(query.column).sum())
    cells = _cells(schema, query.group_by)
    lower, upper = _sum_bounds(schema, spec)
    out = mechanisms.noisy_sums(
        [float(exact.get(c, 0.0) or 0.0) for c in cells],
        epsilon=_split(query.epsilon, 1),
        sensitivity=schema.max_contributions * spec.magnitude,
        lower=lower,
        upper=upper,
        random_state=rng,
    )
    return _result(query, _records(schema, query.group_by, cells, out.values), out)


_RUNNERS = {
    QueryKind.COUNT: _count,
    QueryKind.SUM: _sum,
    QueryKind.MEAN: _mean,
    QueryKind.VARIANCE: _variance,
    QueryKind.QUANTILE: _quantile,
    QueryKind.HISTOGRAM: _histogram,
    QueryKind.GROUP_COUNT: _group_count,
    QueryKind.GROUP_SUM: _group_sum,
}
