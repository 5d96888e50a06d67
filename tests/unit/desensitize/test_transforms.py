"""Column actions and k-anonymity, against literal reference computations."""

from __future__ import annotations

import hashlib
import hmac
import sys
from collections import Counter

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desensitize import pseudonymize
from desensitize.exceptions import KeyFileError
from desensitize.kanon import class_sizes, risk, suppress
from desensitize.pseudonym import pseudonymize_series
from desensitize.transforms import (
    address_to_district,
    bin_numbers,
    mask,
    normalized_identifier,
    truncate_dates,
)

KEY_A = b"a" * 32
KEY_B = b"b" * 32


def _one(frame: pl.LazyFrame, column: str = "v") -> list[object]:
    return frame.collect().get_column(column).to_list()


def test_mask() -> None:
    frame = pl.LazyFrame({"v": ["13812345678", "abc", None]})
    assert _one(mask(frame, "v", keep_first=3, keep_last=4)) == ["138****5678", "***", None]
    assert _one(mask(frame, "v", keep_first=0, keep_last=0)) == ["***********", "***", None]


@settings(deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_pseudonym_is_hmac_sha256(value: str) -> None:
    expected = hmac.new(KEY_A, value.encode(), hashlib.sha256).hexdigest()[:24]
    assert pseudonymize(value, KEY_A) == expected
    assert pseudonymize_series(pl.Series([value]), KEY_A).item() == expected


def test_pseudonyms_join_within_a_grant_and_not_across() -> None:
    ids = pl.Series(["11010519491231002X", "11010519491231002x", "310104198001011234"])
    normal = pl.DataFrame({"v": ids}).select(normalized_identifier(pl.col("v"), "CN_ID_CARD"))
    a = pseudonymize_series(normal.to_series(), KEY_A).to_list()
    b = pseudonymize_series(normal.to_series(), KEY_B).to_list()
    assert a[0] == a[1] != a[2]  # variants of one number join
    assert not set(a) & set(b)  # nothing joins across grants


def test_short_keys_are_refused() -> None:
    with pytest.raises(KeyFileError, match="too short"):
        pseudonymize("x", b"short")


def test_mobile_variants_normalize_to_one() -> None:
    frame = pl.DataFrame({"v": ["+86 138 1234 5678", "138-1234-5678", "13812345678"]})
    assert set(frame.select(normalized_identifier(pl.col("v"), "CN_MOBILE")).to_series()) == {
        "13812345678"
    }


def test_fixed_line_variants_normalize_to_one() -> None:
    frame = pl.DataFrame({"v": ["(0571)87654321", "0571-87654321", "+86 571 8765 4321"]})
    normal = frame.select(normalized_identifier(pl.col("v"), "PHONE_NUMBER")).to_series()
    assert set(normal) == {"057187654321"}


def test_bins_dates_and_districts() -> None:
    frame = pl.LazyFrame(
        {
            "age": ["17", "30", "31", "x", None],
            "born": ["1990-05-17", "1990/5/17", "nonsense", None, "2001-01-01"],
            "addr": [
                "浙江省杭州市西湖区文三路100号",
                "湖州市安吉县城关镇人民路5号",
                "宁波市鄞州区学院路7号3幢",
                "不是地址",
                None,
            ],
        }
    )
    assert _one(bin_numbers(frame, "age", edges=[18, 30]), "age") == [
        "(-inf, 18]",
        "(18, 30]",
        "(30, inf)",
        None,
        None,
    ]
    assert _one(truncate_dates(frame, "born", unit="month"), "born")[0] == "1990-05"
    assert _one(truncate_dates(frame, "born", unit="year"), "born") == [
        "1990",
        "1990",
        None,
        None,
        "2001",
    ]
    assert _one(address_to_district(frame, "addr"), "addr") == [
        "浙江省杭州市西湖区",
        "湖州市安吉县",
        "宁波市鄞州区",
        None,
        None,
    ]


@settings(deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from("ab"), st.integers(0, 3)), min_size=1, max_size=60),
    st.integers(2, 5),
)
def test_k_anonymity_matches_a_literal_count(rows: list[tuple[str, int]], k: int) -> None:
    frame = pl.LazyFrame({"g": [r[0] for r in rows], "n": [r[1] for r in rows]})
    sizes = class_sizes(frame, ["g", "n"])
    kept = suppress(frame, ["g", "n"], sizes, k=k).collect()
    counts = Counter(rows)
    assert sorted(kept.rows()) == sorted(r for r in rows if counts[r] >= k)
    figures = risk(sizes, k=k)
    assert figures.records == len(rows)
    assert figures.smallest_class == min(counts.values())
    assert figures.max_risk == pytest.approx(1 / min(counts.values()), abs=1e-6)
    assert figures.records_below_k_share == pytest.approx(
        sum(n for n in counts.values() if n < k) / len(rows), abs=1e-6
    )


def test_k_anonymity_treats_missing_values_as_one_class() -> None:
    frame = pl.LazyFrame({"g": [None, None, "a"]})
    sizes = class_sizes(frame, ["g"])
    assert suppress(frame, ["g"], sizes, k=2).collect().get_column("g").to_list() == [None, None]


def test_gil_handover_is_prompt_only_while_pseudonyms_run_beside_redaction() -> None:
    from concurrent.futures import ThreadPoolExecutor

    from desensitize.transforms import prompt_gil_handover

    before = sys.getswitchinterval()
    seen: list[float] = []

    def batch() -> None:
        with prompt_gil_handover():
            seen.append(sys.getswitchinterval())

    with prompt_gil_handover():
        inside = sys.getswitchinterval()
        with ThreadPoolExecutor(max_workers=4) as pool:  # overlapping users restore it once
            list(pool.map(lambda _: batch(), range(8)))
        assert sys.getswitchinterval() == inside
    assert inside < before
    assert seen == [inside] * 8
    assert sys.getswitchinterval() == before


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        (["17", " 30", "", None, "-4", "+5"], "integer"),
        (["1.5", "2", "3e2", "-0.25", ".5"], "float"),
        (["2024-05-17", "2024/05/18", ""], "date"),
        (["007", "12"], "string"),  # a leading zero: a code
        (["0", "10"], "integer"),
        (["01.5", "2"], "string"),
        (["1234567890123456", "1"], "string"),  # 16 digits: an identifier, not a count
        (["123456789012345", "1"], "integer"),
        (["2024-02-30", "2024-02-01"], "string"),  # no such day
        (["2024-5-17"], "string"),
        (["1", "a"], "string"),
        (["", None], "string"),
        (["NaN", "inf"], "string"),
    ],
)
def test_column_types_are_inferred_from_every_value(values: list[str | None], kind: str) -> None:
    from desensitize.tableio import column_type_casts, infer_column_types

    frame = pl.LazyFrame({"v": values}, schema={"v": pl.String})
    assert infer_column_types(frame) == {"v": kind}
    typed = frame.with_columns(column_type_casts({"v": kind}, frame.collect_schema())).collect()
    if kind != "string":  # an empty cell is a missing value
        assert typed.get_column("v").null_count() == sum(1 for v in values if not (v or "").strip())


@pytest.mark.parametrize(
    "name", ["user_id", "ID", "zip", "phone_no", "区域代码", "邮编", "身份证号", "order-code"]
)
def test_columns_named_like_identifiers_stay_text(name: str) -> None:
    from desensitize.tableio import infer_column_types

    frame = pl.LazyFrame({name: ["1", "2", "3"], "count": ["1", "2", "3"]})
    assert infer_column_types(frame) == {name: "string", "count": "integer"}
    assert infer_column_types(frame, identifiers={"count"}) == {name: "string", "count": "string"}


def test_typed_columns_take_the_owners_type_or_refuse_it() -> None:
    from desensitize.exceptions import ColumnTypeError
    from desensitize.tableio import check_column_types, column_type_casts

    frame = pl.LazyFrame({"n": [1, 2, None], "x": [1.5, 2.0, 3.0], "t": ["7", " 8", ""]})
    schema = frame.collect_schema()
    types = {"n": "string", "x": "integer", "t": "float"}
    with pytest.raises(ColumnTypeError, match=r"'x': '1\.5' is not of type integer"):
        check_column_types(frame, types)
    types["x"] = "float"
    check_column_types(frame, types)
    typed = frame.with_columns(column_type_casts(types, schema)).collect()
    assert typed.schema == pl.Schema({"n": pl.String, "x": pl.Float64, "t": pl.Float64})
    assert typed.get_column("n").to_list() == ["1", "2", None]
    assert typed.get_column("t").to_list() == [7.0, 8.0, None]
    assert column_type_casts({"x": "float"}, schema) == []  # already a float
