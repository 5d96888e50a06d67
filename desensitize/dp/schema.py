"""The DP metadata a data owner declares per dataset.

Everything the mechanisms need to bound a person's influence comes from here and never from the
data: numeric bounds (values are clipped to them), categorical domains (group keys are
enumerated from them, so the presence of a rare key is not disclosed), the privacy unit and its
contribution limit, and the cap on the ε of one query.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from desensitize.dp.exceptions import SchemaError

#: ε is accounted in nano-ε (10⁻⁹) integers, so a declared ε has at most nine decimal places.
EPSILON_PLACES = 9

DomainValue = str | int | bool


def check_epsilon(value: Decimal, *, what: str) -> Decimal:
    """A finite, positive ε with at most nine decimal places (an exact number of nano-ε)."""
    if not value.is_finite() or value <= 0:
        raise ValueError(f"{what} 必须是正数 / must be a positive number, got {value}")
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -EPSILON_PLACES:
        raise ValueError(
            f"{what} 最多 {EPSILON_PLACES} 位小数 / must have at most {EPSILON_PLACES} decimal "
            f"places (it is accounted in nano-ε), got {value}"
        )
    return value


class NumericColumn(BaseModel):
    """A numeric column with the bounds its values are clipped to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["numeric"] = "numeric"
    lower: float
    upper: float

    @model_validator(mode="after")
    def _bounds(self) -> NumericColumn:
        if not (math.isfinite(self.lower) and math.isfinite(self.upper)):
            raise ValueError("bounds must be finite / 上下界必须是有限数")
        if not self.lower < self.upper:
            raise ValueError(
                f"lower must be below upper / 下界必须小于上界: {self.lower} >= {self.upper}"
            )
        return self

    @property
    def midpoint(self) -> float:
        return (self.lower + self.upper) / 2.0

    @property
    def radius(self) -> float:
        """Half the width of the range: how far a clipped value can be from the midpoint."""
        return (self.upper - self.lower) / 2.0

    @property
    def magnitude(self) -> float:
        """The largest absolute value a clipped value can have."""
        return max(abs(self.lower), abs(self.upper))


class CategoricalColumn(BaseModel):
    """A categorical column with its declared domain; values outside it are never counted."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["categorical"] = "categorical"
    domain: list[DomainValue] = Field(min_length=1, max_length=10_000)

    @field_validator("domain")
    @classmethod
    def _domain(cls, domain: list[DomainValue]) -> list[DomainValue]:
        if len(set(domain)) != len(domain):
            raise ValueError("domain values must be unique / 取值域不能重复")
        kinds = {type(v) for v in domain}
        if len(kinds) != 1:
            raise ValueError("domain values must all have one type / 取值域的值类型必须一致")
        return domain


ColumnSpec = Annotated[NumericColumn | CategoricalColumn, Field(discriminator="type")]


class PrivacyUnit(BaseModel):
    """The column identifying a person, and how many rows of one person a query may use."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str = Field(min_length=1)
    max_contributions: int = Field(ge=1, le=10_000)


class DPSchema(BaseModel):
    """Declared DP metadata of one dataset.

    ``max_rows`` is a public upper bound on the number of rows (the data owner's statement, not
    a count of the data): the Snapping mechanism needs a bound on the answer of a sum, and takes
    it from here.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    columns: dict[str, ColumnSpec] = Field(min_length=1)
    privacy_unit: PrivacyUnit | None = None
    max_query_epsilon: Decimal = Decimal("1")
    max_rows: int = Field(default=1_000_000_000, ge=1, le=10**12)
    histogram_bins: int = Field(default=10, ge=1, le=1_000)
    quantile_grid: int = Field(default=1_000, ge=2, le=100_000)
    contribution_seed: int = Field(default=0, ge=0, lt=2**63)

    @field_validator("max_query_epsilon")
    @classmethod
    def _cap(cls, value: Decimal) -> Decimal:
        return check_epsilon(value, what="max_query_epsilon")

    @model_validator(mode="after")
    def _unit_not_a_column(self) -> DPSchema:
        if self.privacy_unit is not None and self.privacy_unit.column in self.columns:
            raise ValueError(
                "the privacy unit column cannot also be a query column / "
                f"隐私单元列不能作为查询列: {self.privacy_unit.column}"
            )
        return self

    @property
    def max_contributions(self) -> int:
        """Rows one person can contribute to a query: the sensitivity multiplier."""
        return 1 if self.privacy_unit is None else self.privacy_unit.max_contributions

    def numeric(self, name: str) -> NumericColumn:
        spec = self.columns.get(name)
        if not isinstance(spec, NumericColumn):
            raise KeyError(name)
        return spec

    def categorical(self, name: str) -> CategoricalColumn:
        spec = self.columns.get(name)
        if not isinstance(spec, CategoricalColumn):
            raise KeyError(name)
        return spec

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DPSchema:
        """Validate declared metadata (e.g. parsed YAML); ``SchemaError`` lists every problem."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'schema'}: {err['msg']}"
                for err in exc.errors()
            )
            raise SchemaError(f"DP 元数据无效 / invalid DP metadata: {problems}") from None
