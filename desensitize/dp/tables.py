"""DP contingency tables: noisy counts over the cross product of declared domains.

A table like this can be published as an L1 release of an L3 dataset: every cell of the declared
domains is present (empty or not), each count carries two-sided geometric noise, and the negative
counts are set to zero afterwards (post-processing, which costs no privacy).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import polars as pl

from desensitize.dp.engine import DPFrame, DPResult, run_query
from desensitize.dp.query import DPQuery, Filter, QueryKind
from desensitize.dp.schema import DPSchema


def contingency_table(
    data: pl.LazyFrame | DPFrame,
    schema: DPSchema,
    group_by: list[str],
    epsilon: Decimal | str,
    *,
    filters: list[Filter] | None = None,
    random_state: int | np.random.RandomState | None = None,
) -> tuple[pl.DataFrame, DPResult]:
    """The table (one row per cell, column ``count``) and the DP result it was made from."""
    query = DPQuery(
        kind=QueryKind.GROUP_COUNT,
        group_by=group_by,
        epsilon=Decimal(epsilon),
        filters=filters or [],
    )
    result = run_query(data, schema, query, random_state=random_state)
    assert isinstance(result.value, list)
    rows: list[dict[str, Any]] = result.value
    columns: dict[str, list[Any]] = {name: [row[name] for row in rows] for name in group_by}
    columns["count"] = [max(int(row["value"]), 0) for row in rows]
    return pl.DataFrame(columns), result
