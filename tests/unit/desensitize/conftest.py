"""Shared data of the desensitize tests: the shipped synthetic sample and tables made from it."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from desensitize import synthetic

DATA = Path(__file__).resolve().parents[2] / "data" / "desensitize"
KEY = bytes(range(32))


@pytest.fixture
def people_csv() -> Path:
    return DATA / "people.csv"


@pytest.fixture
def people_policy() -> Path:
    return DATA / "people-policy.yaml"


@pytest.fixture
def people_parquet(tmp_path: Path, people_csv: Path) -> Path:
    path = tmp_path / "people.parquet"
    pl.read_csv(people_csv, infer_schema=False).write_parquet(path)
    return path


def person_table(rows: int, seed: int) -> pl.DataFrame:
    """A synthetic register of ``rows`` people, every column as text."""
    rng = random.Random(seed)
    return pl.DataFrame([synthetic.fake_person_row(rng) for _ in range(rows)]).with_columns(
        pl.all().cast(pl.String)
    )


@pytest.fixture
def make_people() -> Callable[[int, int], pl.DataFrame]:
    return person_table
