"""Differentially private queries from a workspace: ``dp.count(...)``, ``dp.mean(...)``, ...

Each call spends ε of the grant's budget on the portal, which computes the answer on the raw data
and adds calibrated noise; the answer says its ε and its error. Standard library only.

    from sandbox import dp
    dp.count("social-insurance-payments", epsilon=0.2, where={"district": "西湖区"})
    dp.mean("social-insurance-payments", "payment", epsilon=0.3)
    dp.group_sum("social-insurance-payments", "payment", by=["district"], epsilon=0.5)
"""

from __future__ import annotations

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
        spread = (
            f"±{self.ci95:.4g} (95%)"
            if not isinstance(self.value, list)
            else f"±{self.ci95:.4g} per cell (95%)"
        )
        left = "" if self.remaining_budget is None else f", ε left {self.remaining_budget:g}"
        return f"{self.value!r} {spread} [ε {self.epsilon:g} via {self.mechanism}{left}]"


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
