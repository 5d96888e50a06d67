"""Publishing without guessing: the owner's departments, the columns and types read from the
file, the DCAT coverage fields, and refusals that say what to do in both languages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from factories import drained, meta, portal_at

from open_portal.exceptions import Forbidden, InvalidInput
from open_portal.models import Dataset, Level
from open_portal.routes.catalog import temporal_range
from open_portal.service import catalog
from open_portal.service.context import Portal


@pytest.fixture
def portal(tmp_path: Path, database_url: str) -> Iterator[Portal]:
    with portal_at(tmp_path / "data", database_url) as p:
        yield p  # the demo owner holds the owner role in hotline, hrss, market and traffic


def typed_csv() -> bytes:
    return (
        pl.DataFrame(
            {
                "district": ["西湖区", "上城区", "滨江区"] * 10,
                "count": list(range(30)),
                "amount": [1.5 * i for i in range(30)],
                "day": [f"2025-03-{i % 28 + 1:02d}" for i in range(30)],
                "zip": ["310012"] * 30,  # named like a code: stays text
            }
        )
        .write_csv()
        .encode()
    )


def test_the_departments_offered_are_the_owners_with_their_names(portal: Portal) -> None:
    catalog.publish_dataset(
        portal,
        actor="owner",
        meta=meta("stats", Level.L2).model_copy(
            update={
                "publisher": "hotline",
                "publisher_name_zh": "12345 热线",
                "publisher_name_en": "12345 Hotline",
            }
        ),
        file_name="s.csv",
        content=typed_csv(),
    )
    with portal.sessions() as session:
        offered = catalog.owner_departments(portal, session, actor="owner")
        assert [d.code for d in offered] == ["hotline", "hrss", "market", "traffic"]
        assert (offered[0].name_zh, offered[0].name_en) == ("12345 热线", "12345 Hotline")
        assert offered[2].name_zh == "market"  # no dataset names it yet: its code
        assert catalog.owner_departments(portal, session, actor="researcher") == []
    catalog.publish_dataset(
        portal,
        actor="owner",
        meta=meta("more", Level.L2).model_copy(update={"publisher": "hotline"}),
        file_name="m.csv",
        content=typed_csv(),
    )
    with portal.sessions() as session:
        more = session.get(Dataset, "more")
        assert more is not None and more.publisher_name_zh == "12345 热线"  # named as before


def test_another_department_is_refused_saying_which_are_yours(portal: Portal) -> None:
    other = meta("xx", Level.L2).model_copy(update={"publisher": "police"})
    with pytest.raises(Forbidden) as refused:
        catalog.publish_dataset(
            portal, actor="owner", meta=other, file_name="x.csv", content=typed_csv()
        )
    assert "hotline, hrss, market, traffic" in str(refused.value)
    assert "请选择您所在的部门" in refused.value.message_zh


def test_the_columns_and_types_come_from_the_file_and_follow_the_confirmed_types(
    portal: Portal,
) -> None:
    catalog.publish_dataset(
        portal, actor="owner", meta=meta("stats", Level.L2), file_name="s.csv", content=typed_csv()
    )
    with portal.sessions() as session:
        dataset = session.get(Dataset, "stats")
        assert dataset is not None and dataset.latest is not None
        assert {c["name"]: c["type"] for c in dataset.columns} == {
            "district": "string",
            "count": "integer",
            "amount": "float",
            "day": "date",
            "zip": "string",
        }
        proposed = dataset.latest.policy_yaml
    catalog.confirm_policy(
        portal,
        actor="owner",
        dataset_id="stats",
        policy_yaml=proposed,
        column_types={"count": "float"},
    )
    drained(portal)
    with portal.sessions() as session:
        dataset = session.get(Dataset, "stats")
        assert dataset is not None
        assert {c["name"]: c["type"] for c in dataset.columns}["count"] == "float"


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2020", "2024", "2020/2024"),
        ("2023", "", "2023"),
        ("", "", ""),
        ("2021", "2021", "2021/2021"),
    ],
)
def test_the_time_range_in_years(start: str, end: str, expected: str) -> None:
    assert temporal_range(start, end) == expected


@pytest.mark.parametrize(("start", "end"), [("2024", "2020"), ("20", ""), ("2020", "abcd")])
def test_a_bad_time_range_is_refused(start: str, end: str) -> None:
    with pytest.raises(InvalidInput):
        temporal_range(start, end)


@pytest.mark.parametrize(
    ("field", "value", "zh"),
    [
        ("theme", "天气", "未知的主题"),
        ("theme", "SOCIETY", "未知的主题"),
        ("update_frequency", "sometimes", "未知的更新频率"),
    ],
)
def test_a_theme_or_frequency_outside_the_vocabularies_is_refused(
    portal: Portal, field: str, value: str, zh: str
) -> None:
    odd = meta("odd", Level.L2).model_copy(update={"publisher": "hotline", field: value})
    with pytest.raises(InvalidInput) as refused:
        catalog.publish_dataset(
            portal, actor="owner", meta=odd, file_name="o.csv", content=typed_csv()
        )
    assert value in str(refused.value) and zh in refused.value.message_zh
    with portal.sessions() as session:
        assert session.get(Dataset, "odd") is None


@pytest.mark.parametrize(
    ("theme", "frequency"), [("SOCI", "MONTHLY"), ("社会保障", "每月"), ("", "")]
)
def test_eu_codes_catalog_names_or_nothing_are_taken(
    portal: Portal, theme: str, frequency: str
) -> None:
    fine = meta("fine", Level.L2).model_copy(
        update={"publisher": "hotline", "theme": theme, "update_frequency": frequency}
    )
    catalog.publish_dataset(
        portal, actor="owner", meta=fine, file_name="f.csv", content=typed_csv()
    )
    with portal.sessions() as session:
        stored = session.get(Dataset, "fine")
        assert stored is not None and (stored.theme, stored.update_frequency) == (theme, frequency)
