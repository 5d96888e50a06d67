"""Differentially private queries from a workspace: ``dp.count(...)``, ``dp.mean(...)``, ...

Each call spends ε of the grant's budget on the portal, which computes the answer on the raw data
and adds calibrated noise; the answer says its ε and its error, and is rounded to what that error
allows. ``dp.preview`` tells, before spending anything, what ±X an ε gives or which ε a wanted ±X
costs (from the declared bounds; no data is read). Standard library only.

    from sandbox import dp
    dp.preview("social-insurance-payments", "sum", column="payment", ci95=50_000)  # free
    dp.count("social-insurance-payments", epsilon=0.2, where={"district": "西湖区"})
    dp.mean("social-insurance-payments", "payment", epsilon=0.3)
    dp.group_sum("social-insurance-payments", "payment", by=["district"], epsilon=0.5)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sandbox import client

Where = dict[str, Any] | list[dict[str, Any]] | None


@dataclass(frozen=True)
class Answer:
    """A DP answer: the noisy value, the ε it cost, and its error."""

    value: Any
    epsilon: float
    error_scale: float
    ci95: float
    remaining_budget: float | None
    mechanism: str

    def __repr__(self) -> str:
        spread = f"±{_shown(self.ci95)} (95%)"
        if isinstance(self.value, list):
            spread = f"±{_shown(self.ci95)} per cell (95%)"
        left = "" if self.remaining_budget is None else f", ε left {self.remaining_budget:g}"
        return f"{_value(self.value)} {spread} [ε {self.epsilon:g} via {self.mechanism}{left}]"


@dataclass(frozen=True)
class Accuracy:
    """What a query would give, before asking it: its ε and its 95% half-width."""

    kind: str
    epsilon: float
    ci95: float
    reachable: bool  # False: even the per-query cap gives no better than ``ci95``
    rows: int | None
    remaining_budget: float | None

    def __repr__(self) -> str:
        unit = " rows of rank" if self.kind == "quantile" else ""
        assumed = "" if self.rows is None else f" for {self.rows:,} rows"
        left = "" if self.remaining_budget is None else f", ε left {self.remaining_budget:g}"
        cap = "" if self.reachable else " (the per-query cap: no ε gives better)"
        return f"{self.kind}: ε {self.epsilon:g} → ±{_shown(self.ci95)}{unit} (95%){assumed}{cap}{left}"


def _shown(width: float) -> str:
    """A 95% half-width to two significant digits, rounded up, with thousands separators."""
    if width <= 0 or width != width:
        return f"{width:g}"
    exponent = math.floor(math.log10(width)) - 1
    step = 10.0**exponent
    value = math.ceil(width / step - 1e-9) * step
    if value.is_integer():
        return f"{int(value):,}"
    return f"{value:,.{max(-exponent, 0)}f}"


def _value(value: Any) -> str:
    """A released value as a person reads it (it is already rounded by the portal)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    if isinstance(value, list):
        return repr(
            [{k: (_value(v) if k == "value" else v) for k, v in row.items()} for row in value]
        )
    return repr(value)


def _filters(where: Where) -> list[dict[str, Any]]:
    """``{"district": "西湖区"}`` means equality; a list passes full filters through."""
    if where is None:
        return []
    if isinstance(where, list):
        return where
    filters = []
    for column, value in where.items():
        op = "in" if isinstance(value, (list, tuple, set)) else "eq"
        filters.append({"column": column, "op": op, "value": list(value) if op == "in" else value})
    return filters


def query(dataset: str, kind: str, *, epsilon: float | str, **fields: Any) -> Answer:
    """Ask the portal for one DP aggregate; raises ``client.ClientError`` with its reason."""
    body: dict[str, Any] = {"dataset": dataset, "kind": kind, "epsilon": str(epsilon)}
    body.update({k: v for k, v in fields.items() if v is not None})
    answer = client.dp_query(body)
    result = answer.get("result", answer)
    budget = answer.get("budget") or {}
    remaining = budget.get("remaining")
    return Answer(
        value=result.get("value"),
        epsilon=float(result.get("epsilon", epsilon)),
        error_scale=float(result.get("error_scale", 0.0)),
        ci95=float(result.get("ci95", 0.0)),
        remaining_budget=None if remaining is None else float(remaining),
        mechanism=str(result.get("mechanism", "")),
    )


def preview(
    dataset: str,
    kind: str,
    *,
    column: str | None = None,
    epsilon: float | str | None = None,
    ci95: float | None = None,
    rows: int | None = None,
    **fields: Any,
) -> Accuracy:
    """The accuracy of a query before asking it, from the declared bounds only (spends nothing).

    Give ``epsilon`` to see the ±X (95%) it gives, or ``ci95`` to find the least ε that gives
    ±``ci95``. Means and variances also need ``rows``, the number of rows you expect.
    """
    body: dict[str, Any] = {"dataset": dataset, "kind": kind, "column": column, "rows": rows}
    if ci95 is not None:
        body["ci95"] = ci95
    elif epsilon is not None:
        body["epsilon"] = str(epsilon)
    body.update(fields)
    answer = client.dp_preview({k: v for k, v in body.items() if v is not None})
    remaining = answer.get("remaining")
    return Accuracy(
        kind=str(answer["kind"]),
        epsilon=float(answer["epsilon"]),
        ci95=float(answer["ci95"]),
        reachable=bool(answer.get("reachable", True)),
        rows=answer.get("rows"),
        remaining_budget=None if remaining is None else float(remaining),
    )


def count(dataset: str, *, epsilon: float | str, where: Where = None) -> Answer:
    return query(dataset, "count", epsilon=epsilon, filters=_filters(where))


def sum(dataset: str, column: str, *, epsilon: float | str, where: Where = None) -> Answer:
    return query(dataset, "sum", epsilon=epsilon, column=column, filters=_filters(where))


def mean(dataset: str, column: str, *, epsilon: float | str, where: Where = None) -> Answer:
    return query(dataset, "mean", epsilon=epsilon, column=column, filters=_filters(where))


def variance(dataset: str, column: str, *, epsilon: float | str, where: Where = None) -> Answer:
    return query(dataset, "variance", epsilon=epsilon, column=column, filters=_filters(where))


def quantile(
    dataset: str, column: str, q: float | list[float], *, epsilon: float | str, where: Where = None
) -> Answer:
    return query(dataset, "quantile", epsilon=epsilon, column=column, q=q, filters=_filters(where))


def histogram(dataset: str, column: str, *, epsilon: float | str, where: Where = None) -> Answer:
    return query(dataset, "histogram", epsilon=epsilon, column=column, filters=_filters(where))


def group_count(
    dataset: str, by: list[str], *, epsilon: float | str, where: Where = None
) -> Answer:
    return query(dataset, "group_count", epsilon=epsilon, group_by=by, filters=_filters(where))


def group_sum(
    dataset: str, column: str, by: list[str], *, epsilon: float | str, where: Where = None
) -> Answer:
    return query(
        dataset, "group_sum", epsilon=epsilon, column=column, group_by=by, filters=_filters(where)
    )


def budget() -> dict[str, float]:
    """The grant's privacy budget: total, spent and remaining ε."""
    return client.budget()
