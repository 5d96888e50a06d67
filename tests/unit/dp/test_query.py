"""Queries the metadata does not allow are refused before anything is computed or spent."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from desensitize.dp import DPQuery, DPSchema, QueryError
from desensitize.dp.query import MAX_GROUP_CELLS

REFUSED = [
    ({"kind": "sum", "column": "phone", "epsilon": "1"}, "not declared"),
    ({"kind": "count", "column": "phone", "epsilon": "1"}, "not declared"),
    ({"kind": "sum", "column": "district", "epsilon": "1"}, "declared bounds"),
    ({"kind": "mean", "epsilon": "1"}, "needs a numeric column"),
    ({"kind": "count", "epsilon": "0"}, "positive"),
    ({"kind": "count", "epsilon": "-1"}, "positive"),
    ({"kind": "count", "epsilon": "Infinity"}, "finite"),
    ({"kind": "count", "epsilon": "2.000000001"}, "above the per-query cap 2"),
    ({"kind": "count", "epsilon": "0.0000000001"}, "decimal places"),
    ({"kind": "group_count", "group_by": ["age"], "epsilon": "1"}, "declared domain"),
    ({"kind": "group_count", "epsilon": "1"}, "needs group_by"),
    ({"kind": "count", "group_by": ["district"], "epsilon": "1"}, "takes no group_by"),
    ({"kind": "group_sum", "group_by": ["district"], "epsilon": "1"}, "numeric column"),
    ({"kind": "quantile", "column": "age", "epsilon": "1"}, "needs q"),
    ({"kind": "quantile", "column": "age", "q": 1.5, "epsilon": "1"}, r"\[0, 1\]"),
    ({"kind": "mean", "column": "age", "q": 0.5, "epsilon": "1"}, "takes no q"),
    ({"kind": "sum", "column": "age", "bins": 5, "epsilon": "1"}, "takes no bins"),
    (
        {"kind": "count", "epsilon": "1", "filters": [{"column": "phone", "op": "eq", "value": 1}]},
        "not declared",
    ),
    (
        {
            "kind": "count",
            "epsilon": "1",
            "filters": [{"column": "district", "op": "lt", "value": "a"}],
        },
        "only takes eq, ne or in",
    ),
    (
        {
            "kind": "count",
            "epsilon": "1",
            "filters": [{"column": "district", "op": "eq", "value": "x"}],
        },
        "not in the declared domain",
    ),
    (
        {"kind": "count", "epsilon": "1", "filters": [{"column": "age", "op": "gt", "value": "x"}]},
        "finite numbers",
    ),
    (
        {"kind": "count", "epsilon": "1", "filters": [{"column": "age", "op": "in", "value": 3}]},
        "takes a list",
    ),
    ({"kind": "median", "epsilon": "1"}, "kind"),
    ({"kind": "count"}, "epsilon"),
]


@pytest.mark.parametrize(("query", "message"), REFUSED)
def test_refused_with_a_clear_message(
    query: dict[str, Any], message: str, schema_dict: Callable[..., dict[str, Any]]
) -> None:
    schema = DPSchema.from_dict(schema_dict())
    with pytest.raises(QueryError, match=message):
        DPQuery.parse(query).validate_for(schema)


def test_too_many_groups(schema_dict: Callable[..., dict[str, Any]]) -> None:
    big = {"type": "categorical", "domain": list(range(400))}
    schema = DPSchema.from_dict(schema_dict(columns={"a": big, "b": big}))
    query = DPQuery.parse({"kind": "group_count", "group_by": ["a", "b"], "epsilon": "1"})
    assert MAX_GROUP_CELLS < 400 * 400
    with pytest.raises(QueryError, match="too many groups"):
        query.validate_for(schema)


def test_epsilon_is_an_exact_decimal() -> None:
    assert DPQuery.parse({"kind": "count", "epsilon": 0.1}).epsilon == Decimal("0.1")
    assert DPQuery.parse({"kind": "count", "epsilon": "0.3"}).epsilon == Decimal("0.3")


def test_fingerprint_is_stable_and_distinguishes_queries() -> None:
    a = DPQuery.parse({"kind": "count", "epsilon": "1"})
    b = DPQuery.parse({"epsilon": "1", "kind": "count"})
    c = DPQuery.parse({"kind": "count", "epsilon": "0.5"})
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()
    assert len(a.fingerprint()) == 64
