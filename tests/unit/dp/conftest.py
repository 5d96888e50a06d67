"""Builders for the DP tests: declared metadata and a small table of people."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl
import pytest

from desensitize.dp import DPSchema

DISTRICTS = ["西湖区", "上城区", "滨江区", "拱墅区"]


def _schema_dict(**overrides: Any) -> dict[str, Any]:
    declared: dict[str, Any] = {
        "columns": {
            "age": {"type": "numeric", "lower": 0, "upper": 100},
            "income": {"type": "numeric", "lower": 0, "upper": 50_000},
            "district": {"type": "categorical", "domain": DISTRICTS},
            "insured": {"type": "categorical", "domain": [True, False]},
        },
        "max_query_epsilon": "2",
    }
    declared.update(overrides)
    return declared


@pytest.fixture
def schema_dict() -> Callable[..., dict[str, Any]]:
    """Declared metadata as a data owner writes it; keyword arguments replace top-level keys."""
    return _schema_dict


@pytest.fixture
def schema() -> DPSchema:
    return DPSchema.from_dict(_schema_dict())


def people(n: int, seed: int = 0) -> pl.DataFrame:
    """``n`` people; 拱墅区 never occurs, and 3% live in an undeclared district."""
    rng = np.random.default_rng(seed)
    district = rng.choice([*DISTRICTS[:3], "未声明区"], size=n, p=[0.4, 0.3, 0.27, 0.03])
    return pl.DataFrame(
        {
            "person": np.arange(n),
            "age": rng.integers(0, 90, n),
            "income": rng.gamma(2.0, 4_000.0, n),
            "district": district,
            "insured": rng.random(n) < 0.8,
            "phone": [f"138{i:08d}" for i in range(n)],
        }
    )


@pytest.fixture
def frame() -> pl.DataFrame:
    return people(20_000)
