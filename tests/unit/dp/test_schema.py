"""Declared DP metadata: what a data owner may declare, and the messages for what they may not."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from desensitize.dp import DPSchema, SchemaError


def test_declared_metadata_is_read(schema_dict: Callable[..., dict[str, Any]]) -> None:
    schema = DPSchema.from_dict(
        schema_dict(privacy_unit={"column": "person", "max_contributions": 3})
    )
    assert schema.numeric("age").radius == 50
    assert schema.categorical("district").domain[0] == "西湖区"
    assert schema.max_contributions == 3
    assert str(schema.max_query_epsilon) == "2"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"columns": {"age": {"type": "numeric", "lower": 5, "upper": 5}}}, "lower must be below"),
        ({"columns": {"age": {"type": "numeric", "lower": 0, "upper": "inf"}}}, "finite"),
        ({"columns": {"age": {"type": "numeric", "lower": 0}}}, "upper"),
        ({"columns": {"d": {"type": "categorical", "domain": ["a", "a"]}}}, "unique"),
        ({"columns": {"d": {"type": "categorical", "domain": ["a", 1]}}}, "one type"),
        ({"columns": {"d": {"type": "categorical", "domain": []}}}, "at least 1"),
        ({"columns": {"d": {"type": "date"}}}, "type"),
        ({"columns": {}}, "at least 1"),
        ({"max_query_epsilon": "0"}, "positive"),
        ({"max_query_epsilon": "0.0000000001"}, "decimal places"),
        ({"privacy_unit": {"column": "person", "max_contributions": 0}}, "greater than"),
        ({"privacy_unit": {"column": "age", "max_contributions": 1}}, "privacy unit"),
        ({"surprise": 1}, "Extra inputs"),
    ],
)
def test_invalid_metadata_is_refused_with_the_reason(
    change: dict[str, Any], message: str, schema_dict: Callable[..., dict[str, Any]]
) -> None:
    with pytest.raises(SchemaError, match=message) as refused:
        DPSchema.from_dict(schema_dict(**change))
    assert "DP 元数据无效" in str(refused.value)
