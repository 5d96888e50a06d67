"""What a DP answer can mean, known before it is asked: from ε and the declared metadata alone.

The half-width of the 95% interval of every kind of query depends only on ε, the declared bounds
and domains and the contribution limit, never on the data (means and variances also on the number
of rows, which the requester states as an assumption). So a requester can see, before spending
anything, which ε gives ±X, and an answer can be rounded to what its noise allows: a sum with a
95% interval of ±431,500 is shown as 670,000, not 672000.0000006985.

The formulas are the engine's own (``desensitize.dp.engine``): a test checks that the preview of
a query equals the ``ci95`` its answer carries.
"""

from __future__ import annotations

import math
from decimal import ROUND_CEILING, Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from desensitize.dp import mechanisms
from desensitize.dp.engine import DPResult, _split, _sum_bounds
from desensitize.dp.exceptions import QueryError
from desensitize.dp.query import DPQuery, QueryKind
from desensitize.dp.schema import EPSILON_PLACES, DPSchema, NumericColumn

#: Kinds whose interval also depends on the number of rows (they divide by a noisy count).
NEEDS_ROWS = frozenset({QueryKind.MEAN, QueryKind.VARIANCE})
#: ε searched for a wanted accuracy is rounded up to this many significant digits.
EPSILON_DIGITS = 2


class Accuracy(BaseModel):
    """The 95% half-width a query would have at ``epsilon``; nothing computed on data."""

    model_config = ConfigDict(frozen=True)

    kind: QueryKind
    epsilon: Decimal
    ci95: float
    ci95_unit: Literal["value", "rank"] = "value"
    rows: int | None = Field(default=None, description="rows assumed (means and variances)")
    max_query_epsilon: Decimal
    reachable: bool = True  # False: even the per-query cap does not give the wanted accuracy


def half_width(schema: DPSchema, query: DPQuery, *, rows: int | None = None) -> float:
    """The ``ci95`` the answer to ``query`` will carry (for means and variances: with ``rows``
    rows after the filters, an assumption the requester states)."""
    query.validate_for(schema)
    k = schema.max_contributions
    kind = query.kind
    if kind in (QueryKind.COUNT, QueryKind.HISTOGRAM, QueryKind.GROUP_COUNT):
        return float(mechanisms.geometric_half_width(_split(query.epsilon, 1), k))
    if kind == QueryKind.QUANTILE:
        eps = _split(query.epsilon, len(query.quantiles))
        candidates = schema.quantile_grid + 1
        return 2.0 * k / eps * (math.log(candidates) + math.log(1.0 / mechanisms.ALPHA))
    assert query.column is not None
    spec = schema.numeric(query.column)
    if kind in (QueryKind.SUM, QueryKind.GROUP_SUM):
        lower, upper = _sum_bounds(schema, spec)
        eps = _split(query.epsilon, 1)
        return mechanisms.snapping_error(eps, k * spec.magnitude, lower, upper)[1]
    if rows is None or rows < 1:
        raise QueryError(
            f"{kind} 的精度取决于行数，请给出预计行数 rows / the accuracy of a {kind} depends on "
            "the number of rows: give the rows you expect"
        )
    return _moment_half_width(schema, spec, query, rows)


def _moment_half_width(schema: DPSchema, spec: NumericColumn, query: DPQuery, rows: int) -> float:
    k, r, n_max = schema.max_contributions, spec.radius, schema.max_rows
    parts = 2 if query.kind == QueryKind.MEAN else 3
    eps = _split(query.epsilon, parts)
    alpha = mechanisms.ALPHA / parts
    count = mechanisms.geometric_half_width(eps, k, alpha)
    n = max(rows - count, 1)  # the noisy count the answer divides by, at its low end
    first = mechanisms.snapping_error(eps, k * r, -n_max * r, n_max * r, alpha)[1]
    if query.kind == QueryKind.MEAN:
        return min((first + r * count) / n, 2 * r)
    half_r2 = r * r / 2.0
    second = mechanisms.snapping_error(eps, k * half_r2, -n_max * half_r2, n_max * half_r2, alpha)
    e1 = (first + r * count) / n
    e2 = (second[1] + half_r2 * count) / n
    return min(e2 + 2 * r * e1, r * r)


def preview(
    schema: DPSchema,
    query: dict[str, Any],
    *,
    ci95: float | None = None,
    rows: int | None = None,
) -> Accuracy:
    """The accuracy of ``query`` at its ε, or (``ci95`` given) the least ε that gives ±``ci95``.

    ``query`` is a query as it would be asked (its ``epsilon`` may be left out when ``ci95`` is
    given). When even the per-query cap gives less, the answer is the cap, ``reachable=False``.
    """
    cap = schema.max_query_epsilon
    if ci95 is None:
        parsed = DPQuery.parse(query)
        width = half_width(schema, parsed, rows=rows)
        return _accuracy(parsed, width, rows, cap, reachable=True)
    if not (math.isfinite(ci95) and ci95 > 0):
        raise QueryError("想要的精度须为正数 / the wanted accuracy must be a positive number")
    at_cap = DPQuery.parse({**query, "epsilon": str(cap)})
    widest = half_width(schema, at_cap, rows=rows)
    if widest > ci95:
        return _accuracy(at_cap, widest, rows, cap, reachable=False)
    low, high = 0.0, float(cap)
    for _ in range(60):  # bisection on ε: the half-width never grows with ε
        mid = (low + high) / 2
        if mid <= 0 or _width_at(schema, query, mid, rows) > ci95:
            low = mid
        else:
            high = mid
    epsilon = min(_round_up(high), cap)
    parsed = DPQuery.parse({**query, "epsilon": str(epsilon)})
    return _accuracy(parsed, half_width(schema, parsed, rows=rows), rows, cap, reachable=True)


def _width_at(schema: DPSchema, query: dict[str, Any], epsilon: float, rows: int | None) -> float:
    places = Decimal(epsilon).quantize(Decimal(1).scaleb(-EPSILON_PLACES), rounding=ROUND_CEILING)
    return half_width(schema, DPQuery.parse({**query, "epsilon": str(places)}), rows=rows)


def _round_up(epsilon: float) -> Decimal:
    """``epsilon`` rounded up to ``EPSILON_DIGITS`` significant digits (at most 9 places)."""
    value = Decimal(repr(epsilon))
    exponent = max(value.adjusted() - EPSILON_DIGITS + 1, -EPSILON_PLACES)
    return value.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_CEILING).normalize()


def _accuracy(
    query: DPQuery, width: float, rows: int | None, cap: Decimal, *, reachable: bool
) -> Accuracy:
    return Accuracy(
        kind=query.kind,
        epsilon=query.epsilon,
        ci95=width,
        ci95_unit="rank" if query.kind == QueryKind.QUANTILE else "value",
        rows=rows if query.kind in NEEDS_ROWS else None,
        max_query_epsilon=cap,
        reachable=reachable,
    )


# ---- rounding answers ---------------------------------------------------------------------


def resolution(ci95: float) -> float | None:
    """The rounding step an answer with this 95% half-width can bear: a tenth of its leading
    decade (±431,500 -> 10,000; ±3 -> 0.1; ±0.048 -> 0.001). None without noise to go by."""
    if not (math.isfinite(ci95) and ci95 > 0):
        return None
    return 10.0 ** (math.floor(math.log10(ci95)) - 1)


def round_to(value: Any, step: float | None) -> Any:
    """``value`` rounded to a multiple of ``step`` (a power of ten); integers stay integers and
    are left alone below a step of 1. Post-processing: it costs no privacy."""
    if step is None or isinstance(value, bool) or not isinstance(value, int | float):
        return value
    digits = -round(math.log10(step))
    if isinstance(value, int):
        return value if digits >= 0 else int(round(value, digits))
    if not math.isfinite(value):
        return value
    return float(round(value, digits))


def rounded(result: DPResult, schema: DPSchema) -> DPResult:
    """The answer as released: every value rounded to what its noise allows.

    Quantiles are grid points, whose interval is in ranks: they are rounded to a tenth of the
    grid's step.
    """
    if result.kind == QueryKind.QUANTILE:
        spec = schema.numeric(result.columns[0])
        step = resolution((spec.upper - spec.lower) / schema.quantile_grid)
    else:
        step = resolution(result.ci95)
    value: Any = result.value
    if isinstance(value, list):
        value = [{**row, "value": round_to(row["value"], step)} for row in value]
    else:
        value = round_to(value, step)
    return result.model_copy(update={"value": value, "resolution": step})


def significant(value: float, digits: int = 2) -> float:
    """``value`` to ``digits`` significant digits, rounded away from zero (to show ±X: never
    narrower than the interval)."""
    if value == 0 or not math.isfinite(value):
        return value
    exponent = math.floor(math.log10(abs(value))) - digits + 1
    scaled = math.ceil(abs(value) / 10.0**exponent - 1e-9)
    return math.copysign(round(scaled * 10.0**exponent, max(-exponent, 0)), value)
