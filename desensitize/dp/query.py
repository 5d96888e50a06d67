"""A DP query and its validation against the declared metadata.

Validation happens before anything is computed or charged: a refused query spends nothing.
"""

from __future__ import annotations

import hashlib
import json
import math
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from desensitize.dp.exceptions import QueryError
from desensitize.dp.schema import (
    CategoricalColumn,
    DomainValue,
    DPSchema,
    NumericColumn,
    check_epsilon,
)

#: Most cells a grouped query may produce (the cross product of the declared domains).
MAX_GROUP_CELLS = 100_000


class QueryKind(StrEnum):
    COUNT = "count"
    SUM = "sum"
    MEAN = "mean"
    VARIANCE = "variance"
    QUANTILE = "quantile"
    HISTOGRAM = "histogram"
    GROUP_COUNT = "group_count"
    GROUP_SUM = "group_sum"


class FilterOp(StrEnum):
    EQ = "eq"
    NE = "ne"
    IN = "in"
    LT = "lt"
    LE = "le"
    GT = "gt"
    GE = "ge"


ORDER_OPS = frozenset({FilterOp.LT, FilterOp.LE, FilterOp.GT, FilterOp.GE})
NEEDS_NUMERIC = frozenset({QueryKind.SUM, QueryKind.MEAN, QueryKind.VARIANCE, QueryKind.QUANTILE})
GROUPED = frozenset({QueryKind.GROUP_COUNT, QueryKind.GROUP_SUM})

FilterValue = DomainValue | float | list[DomainValue | float]


class Filter(BaseModel):
    """A predicate on one declared column; rows failing it are left out before aggregation."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str
    op: FilterOp
    value: FilterValue


class DPQuery(BaseModel):
    """What a requester asks for. ``epsilon`` is a decimal (string in JSON), charged exactly."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: QueryKind
    epsilon: Decimal
    column: str | None = None
    group_by: list[str] = Field(default_factory=list, max_length=3)
    filters: list[Filter] = Field(default_factory=list, max_length=20)
    q: float | list[float] | None = None
    bins: int | None = Field(default=None, ge=1, le=1_000)

    @field_validator("epsilon", mode="before")
    @classmethod
    def _no_binary_float(cls, value: Any) -> Any:
        # A float such as 0.1 is not the decimal the requester meant: take its shortest repr.
        return str(value) if isinstance(value, float) else value

    @classmethod
    def parse(cls, data: dict[str, Any]) -> DPQuery:
        """Build a query from JSON-like data; raise ``QueryError`` with every problem."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'query'}: {err['msg']}"
                for err in exc.errors()
            )
            raise QueryError(f"查询格式无效 / invalid query: {problems}") from None

    @property
    def quantiles(self) -> list[float]:
        if self.q is None:
            return []
        return self.q if isinstance(self.q, list) else [self.q]

    @property
    def columns(self) -> list[str]:
        """Every column the query reads, in a stable order."""
        names = [self.column] if self.column else []
        names += self.group_by + [f.column for f in self.filters]
        return list(dict.fromkeys(names))

    def fingerprint(self) -> str:
        """SHA-256 of the query's canonical JSON: the ``query_hash`` charged on the ledger."""
        canonical = json.dumps(
            self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, separators=(",", ":")
        )
        return hashlib.sha256(canonical.encode()).hexdigest()

    def validate_for(self, schema: DPSchema) -> None:
        """Refuse (``QueryError``) anything the metadata does not allow; return when it is fine."""
        _check_epsilon(self.epsilon, schema.max_query_epsilon)
        kind = self.kind
        if kind in NEEDS_NUMERIC or kind == QueryKind.GROUP_SUM:
            if self.column is None:
                raise QueryError(f"{kind} 需要指定数值列 / {kind} needs a numeric column")
            _numeric(schema, self.column, kind)
        elif kind == QueryKind.HISTOGRAM:
            if self.column is None:
                raise QueryError("histogram 需要指定列 / histogram needs a column")
            _declared(schema, self.column)
        elif kind in (QueryKind.COUNT, QueryKind.GROUP_COUNT) and self.column is not None:
            _declared(schema, self.column)
        if kind in GROUPED:
            if not self.group_by:
                raise QueryError(f"{kind} 需要 group_by / {kind} needs group_by")
            cells = 1
            for name in self.group_by:
                cells *= len(_categorical(schema, name, "group_by").domain)
            if cells > MAX_GROUP_CELLS:
                raise QueryError(
                    f"分组过多 / too many groups: {cells} cells (at most {MAX_GROUP_CELLS})"
                )
        elif self.group_by:
            raise QueryError(f"{kind} 不支持 group_by / {kind} takes no group_by")
        if kind == QueryKind.QUANTILE:
            if not self.quantiles:
                raise QueryError("quantile 需要 q / quantile needs q in [0, 1]")
            if len(self.quantiles) > 20 or not all(0.0 <= q <= 1.0 for q in self.quantiles):
                raise QueryError(
                    "q 必须在 [0, 1] 内（最多 20 个）/ q must be in [0, 1] (at most 20)"
                )
        elif self.q is not None:
            raise QueryError(f"{kind} 不需要 q / {kind} takes no q")
        if self.bins is not None and kind != QueryKind.HISTOGRAM:
            raise QueryError(f"{kind} 不需要 bins / {kind} takes no bins")
        for flt in self.filters:
            _check_filter(schema, flt)


def _check_epsilon(epsilon: Decimal, cap: Decimal) -> None:
    try:
        check_epsilon(epsilon, what="epsilon")
    except ValueError as exc:
        raise QueryError(str(exc)) from None
    if epsilon > cap:
        raise QueryError(
            f"单次查询 ε 超过上限 / epsilon {epsilon} is above the per-query cap {cap}"
        )


def _declared(schema: DPSchema, name: str) -> NumericColumn | CategoricalColumn:
    spec = schema.columns.get(name)
    if spec is None:
        raise QueryError(
            f"列 {name!r} 未在 DP 元数据中声明 / column {name!r} is not declared in the dataset's "
            f"DP metadata (declared: {', '.join(sorted(schema.columns))})"
        )
    return spec


def _numeric(schema: DPSchema, name: str, use: str) -> NumericColumn:
    spec = _declared(schema, name)
    if not isinstance(spec, NumericColumn):
        raise QueryError(
            f"{use} 需要有声明上下界的数值列 / {use} needs a numeric column with declared "
            f"bounds; {name!r} is categorical"
        )
    return spec


def _categorical(schema: DPSchema, name: str, use: str) -> CategoricalColumn:
    spec = _declared(schema, name)
    if not isinstance(spec, CategoricalColumn):
        raise QueryError(
            f"{use} 需要有声明取值域的分类列 / {use} needs a categorical column with a declared "
            f"domain; {name!r} is numeric"
        )
    return spec


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_filter(schema: DPSchema, flt: Filter) -> None:
    spec = _declared(schema, flt.column)
    values = flt.value if isinstance(flt.value, list) else [flt.value]
    if (flt.op == FilterOp.IN) != isinstance(flt.value, list):
        raise QueryError(
            f"过滤条件 {flt.column}: 'in' 需要列表，其它运算需要单个值 / filter on {flt.column!r}: "
            "'in' takes a list, every other op a single value"
        )
    if isinstance(spec, NumericColumn):
        if not all(_is_number(v) for v in values):
            raise QueryError(
                f"过滤条件 {flt.column}: 需要有限数值 / "
                f"filter on {flt.column!r} needs finite numbers"
            )
        return
    if flt.op in ORDER_OPS:
        raise QueryError(
            f"分类列 {flt.column} 只支持 eq/ne/in / categorical column {flt.column!r} only takes "
            "eq, ne or in"
        )
    outside = [v for v in values if v not in spec.domain or type(v) is not type(spec.domain[0])]
    if outside:
        raise QueryError(
            f"过滤值不在声明的取值域内 / filter values {outside!r} are not in the declared domain "
            f"of {flt.column!r}"
        )
