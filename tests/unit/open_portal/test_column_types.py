"""A published CSV keeps its numbers and dates: inferred at upload, confirmed by the owner, typed in
the release Parquet; identifiers that look numeric stay text."""

from __future__ import annotations

import io
import random
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from factories import meta, portal_at

from desensitize import synthetic
from desensitize.tableio import column_type_casts, infer_column_types
from open_portal.exceptions import InvalidInput
from open_portal.models import Dataset, Level
from open_portal.service import catalog
from open_portal.service.context import Portal

EXPECTED_TYPES = {
    "name": "string",
    "id_number": "string",  # 18 digits, found as an ID number
    "mobile": "string",  # a phone number
    "order_no": "string",  # 18 digits: longer than any count
    "area_code": "string",  # leading zeros
    "zip": "string",  # named like a code
    "age": "integer",
    "visits": "integer",  # with empty cells
    "amount": "float",
    "visit_date": "date",
    "note": "string",
}


def typed_csv(rows: int = 120) -> bytes:
    rng = random.Random(11)
    records = []
    for i in range(rows):
        person = synthetic.fake_person_row(rng)
        records.append(
            {
                "name": person["name"],
                "id_number": person["id_number"],
                "mobile": synthetic.valid_mobile(rng),
                "order_no": person["order_no"],
                "area_code": f"0{rng.randrange(10, 999)}",
                "zip": str(rng.randrange(100000, 999999)),
                "age": str(person["age"]),
                "visits": "" if i % 7 == 0 else str(rng.randrange(0, 50)),
                "amount": f"{rng.randrange(0, 100000) / 100:.2f}",
                "visit_date": f"2025-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
                "note": person["note"],
            }
        )
    buffer = io.BytesIO()
    pl.DataFrame(records).write_csv(buffer)
    return buffer.getvalue()


@pytest.fixture
def portal(tmp_path: Path, database_url: str) -> Iterator[Portal]:
    with portal_at(tmp_path / "data", database_url) as p:
        p.policy.assign_role("owner", "owner", "dept:market")
        yield p


def publish(portal: Portal, level: Level) -> str:
    catalog.publish_dataset(
        portal, actor="owner", meta=meta("typed", level), file_name="t.csv", content=typed_csv()
    )
    with portal.sessions() as session:
        version = session.get(Dataset, "typed").latest  # type: ignore[union-attr]
        assert version is not None
        assert version.column_types == EXPECTED_TYPES
        return version.policy_yaml


def l2_release(portal: Portal, tmp_path: Path) -> pl.DataFrame:
    with portal.sessions.begin() as session:
        version = session.get(Dataset, "typed").latest  # type: ignore[union-attr]
        assert version is not None
        release = catalog.build_release(
            portal, session, version, grant_id="g0001", key=b"k" * 32, out_dir=tmp_path / "g"
        )
    return pl.read_parquet(release.path)


def test_an_l2_release_has_the_types_of_the_csv(portal: Portal, tmp_path: Path) -> None:
    proposed = publish(portal, Level.L2)
    catalog.confirm_policy(portal, actor="owner", dataset_id="typed", policy_yaml=proposed)
    schema = l2_release(portal, tmp_path).schema
    assert schema["age"] == pl.Int64
    assert schema["visits"] == pl.Int64
    assert schema["amount"] == pl.Float64
    assert schema["visit_date"] == pl.Date
    for text in ("name", "id_number", "mobile", "order_no", "area_code", "zip", "note"):
        assert schema[text] == pl.String, text
    frame = l2_release(portal, tmp_path)
    assert frame["visits"].null_count() > 0  # empty cells are missing values, not zeros
    assert frame["area_code"].str.starts_with("0").all()


def test_the_published_l1_release_is_typed(portal: Portal) -> None:
    proposed = publish(portal, Level.L1)
    catalog.confirm_policy(portal, actor="owner", dataset_id="typed", policy_yaml=proposed)
    path, release = catalog.download_release(portal, actor="", dataset_id="typed")
    schema = pl.read_parquet(path).schema
    kept = {c["name"]: c["type"] for c in release.report["columns"] if c["action"] == "keep"}
    for name, kind in kept.items():
        want = {"integer": pl.Int64, "float": pl.Float64, "date": pl.Date, "string": pl.String}
        assert schema[name] == want[kind], name
    assert kept["amount"] == "float" and kept["visits"] == "integer"


def test_the_owner_can_keep_a_number_as_text(portal: Portal, tmp_path: Path) -> None:
    proposed = publish(portal, Level.L2)
    catalog.confirm_policy(
        portal,
        actor="owner",
        dataset_id="typed",
        policy_yaml=proposed,
        column_types={"age": "string", "area_code": "integer"},
    )
    schema = l2_release(portal, tmp_path).schema
    assert schema["age"] == pl.String
    assert schema["area_code"] == pl.Int64  # the owner's choice: every value is a number


@pytest.mark.parametrize(
    ("types", "message"),
    [
        ({"visit_date": "integer"}, "is not of type integer"),
        ({"visit_date": "float"}, "is not of type float"),
        ({"amount": "date"}, "is not of type date"),
        ({"amount": "integer"}, "is not of type integer"),
        ({"id_number": "integer"}, "personal data"),
        ({"age": "bigint"}, "unknown column type"),
        ({"nope": "integer"}, "unknown column"),
    ],
)
def test_types_that_do_not_fit_are_refused(
    portal: Portal, types: dict[str, str], message: str
) -> None:
    proposed = publish(portal, Level.L2)
    with pytest.raises(InvalidInput, match=message) as refused:
        catalog.confirm_policy(
            portal, actor="owner", dataset_id="typed", policy_yaml=proposed, column_types=types
        )
    assert refused.value.message_zh != str(refused.value)  # both languages
    with portal.sessions() as session:
        version = session.get(Dataset, "typed").latest  # type: ignore[union-attr]
        assert version is not None
        assert version.column_types == EXPECTED_TYPES and not version.policy_confirmed


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["2025-03-01T08:30", "2025-03-02 17:05:59", ""], "datetime"),
        (["2025/03/01 08:30", "2025/12/31 23:59"], "datetime"),
        (["2025-03-01T08:30", "2025-03-01"], "string"),  # one value without its time
        (["2025-03-01 25:30"], "string"),  # no such hour
    ],
)
def test_dates_with_their_time_stay_datetimes(values: list[str], expected: str) -> None:
    frame = pl.DataFrame({"received_at": values}).lazy()
    types = infer_column_types(frame)
    assert types == {"received_at": expected}
    typed = frame.with_columns(column_type_casts(types, frame.collect_schema())).collect()
    if expected == "datetime":
        assert typed.schema["received_at"] == pl.Datetime("us")
        assert typed["received_at"][0].minute == 30
