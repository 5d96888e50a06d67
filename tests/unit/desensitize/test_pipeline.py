"""``desensitize_table`` end to end: outputs, the release report, atomic writes, bad input."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from desensitize import desensitize_frame, desensitize_table, load_policy, pseudonymize
from desensitize.exceptions import (
    KeyFileError,
    UnknownColumnError,
    UnprotectedIdentifierError,
    UnreadableFileError,
)
from desensitize.policy import Policy

KEY = bytes(range(32))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_sample_policy(tmp_path: Path, people_csv: Path, people_policy: Path) -> None:
    out = tmp_path / "release.parquet"
    report = desensitize_table(people_csv, out, policy=load_policy(people_policy), key=KEY)
    source = pl.read_csv(people_csv, infer_schema=False)
    result = pl.read_parquet(out)

    assert "bank_card" not in result.columns
    assert result.get_column("mobile").str.contains(r"^1[3-9]\d\*{4}\d{4}$").all()
    assert set(result.get_column("birth_date")) <= {str(y) for y in range(1900, 2030)}
    # look-alikes are untouched
    kept = source.join(result.select("order_no", "amount", "bad_id"), on="order_no", how="semi")
    assert kept.height == result.height
    # k-anonymity over (gender, age bins) with k = 2
    counts = Counter(zip(result["gender"], result["age"], strict=True))
    assert min(counts.values()) >= 2
    assert report.rows_in == 40
    assert report.rows_out == result.height == 40 - report.rows_suppressed
    assert report.k_achieved is not None and report.k_achieved >= 2
    # pseudonyms are the keyed HMAC of the normalized value
    first = source.row(0, named=True)
    assert pseudonymize(first["id_number"].upper(), KEY) in set(result["id_number"])

    written = json.loads((tmp_path / "release.parquet.report.json").read_text())
    assert written == report.to_json()
    assert written["input_sha256"] == _sha(people_csv)
    assert written["output_sha256"] == _sha(out)
    assert written["rows_suppressed"] == report.rows_suppressed
    assert {c["name"]: c["action"] for c in written["columns"]}["note"] == "redact"
    assert written["risk"]["after"]["max_risk"] <= 0.5
    assert written["residual_personal_data"] == []
    assert "k_anonymity" in written["policy_yaml"]


def test_default_policy_to_csv(tmp_path: Path, people_csv: Path) -> None:
    out = tmp_path / "public.csv"
    report = desensitize_table(people_csv, out, key=KEY, level="L1")
    result = pl.read_csv(out, infer_schema=False)
    assert "id_number" not in result.columns and "name" not in result.columns
    assert not result.get_column("note").str.contains(r"1[3-9]\d{9}").any()
    assert report.policy["level"] == "L1"
    assert report.k_requested == 5


def test_join_within_a_grant_not_across(tmp_path: Path, people_csv: Path) -> None:
    policy = Policy.from_yaml(
        "columns: {id_number: {action: pseudonymize}, name: {action: drop}, mobile: {action: drop},"
        " bank_card: {action: drop}, email: {action: drop}, plate: {action: drop},"
        " address: {action: drop}, note: {action: drop}}"
    )
    a1, a2, b = (tmp_path / f"{n}.parquet" for n in ("a1", "a2", "b"))
    desensitize_table(people_csv, a1, policy=policy, key=b"grant-a" * 4)
    desensitize_table(people_csv, a2, policy=policy, key=b"grant-a" * 4)
    desensitize_table(people_csv, b, policy=policy, key=b"grant-b" * 4)
    ids = [set(pl.read_parquet(p)["id_number"]) for p in (a1, a2, b)]
    assert ids[0] == ids[1] and not ids[0] & ids[2]


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_policy_errors_leave_nothing_behind(tmp_path: Path, people_csv: Path) -> None:
    out = tmp_path / "out" / "release.parquet"
    with pytest.raises(UnprotectedIdentifierError, match=r"column .name. holds PERSON"):
        desensitize_table(people_csv, out, policy=Policy.from_yaml("columns: {}"), key=KEY)
    with pytest.raises(UnknownColumnError, match="'ghost'"):
        desensitize_table(
            people_csv, out, policy=Policy.from_yaml("columns: {ghost: {action: drop}}"), key=KEY
        )
    with pytest.raises(KeyFileError):
        desensitize_table(people_csv, out, key=b"short")
    assert not out.exists()
    assert not out.parent.exists() or _leftovers(out.parent) == []


def test_malformed_csv_leaves_no_partial_output(tmp_path: Path, people_csv: Path) -> None:
    lines = people_csv.read_text(encoding="utf-8").splitlines()
    broken = tmp_path / "broken.csv"
    # a row with too many fields, far after the first block of the file
    broken.write_text("\n".join([*lines, *lines[1:] * 3, "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r"]))
    out = tmp_path / "release.parquet"
    out.write_bytes(b"previous release")
    with pytest.raises(UnreadableFileError, match=r"broken\.csv"):
        desensitize_table(broken, out, key=KEY)
    assert out.read_bytes() == b"previous release"
    assert _leftovers(tmp_path) == ["broken.csv", "release.parquet"]


def test_output_type_is_checked(tmp_path: Path, people_csv: Path) -> None:
    with pytest.raises(UnreadableFileError, match=r"\.parquet or \.csv"):
        desensitize_table(people_csv, tmp_path / "x.xlsx", key=KEY)


def test_typed_parquet_and_excel_free_input(
    tmp_path: Path, make_people: Callable[[int, int], pl.DataFrame]
) -> None:
    frame = make_people(120, 5).with_columns(pl.col("age").cast(pl.Int64))
    source = tmp_path / "typed.parquet"
    frame.write_parquet(source)
    out = tmp_path / "typed-release.parquet"
    report = desensitize_table(source, out, key=KEY, level="L1")
    result = pl.read_parquet(out)
    assert report.rows_in == 120
    assert set(result.get_column("age").drop_nulls()) <= {
        "(-inf, 18]", "(18, 30]", "(30, 45]", "(45, 60]", "(60, 75]", "(75, inf)"
    }  # fmt: skip
    counts = Counter(result.select(report.quasi_identifiers).rows())
    assert not counts or min(counts.values()) >= 5


@pytest.mark.parametrize("k", [2, 8])
def test_in_memory_matches_the_file_pipeline(
    tmp_path: Path, people_csv: Path, people_policy: Path, k: int
) -> None:
    policy = load_policy(people_policy)
    assert policy.k_anonymity is not None
    policy.k_anonymity.k = k
    out = tmp_path / "release.parquet"
    report = desensitize_table(people_csv, out, policy=policy, key=KEY)
    source = pl.read_csv(people_csv, infer_schema=False)

    in_memory = desensitize_frame(source, policy=policy, key=KEY)

    assert in_memory.height == report.rows_out
    assert (report.rows_suppressed > 0) == (k == 8)
    assert "bank_card" not in in_memory.columns
    assert_frame_equal(in_memory, pl.read_parquet(out), check_row_order=False)


def test_in_memory_refuses_what_the_file_pipeline_refuses(people_csv: Path) -> None:
    source = pl.read_csv(people_csv, infer_schema=False)
    with pytest.raises(UnprotectedIdentifierError, match="id_number"):
        desensitize_frame(
            source, policy=Policy.from_yaml("columns: {name: {action: drop}}"), key=KEY
        )
    with pytest.raises(UnknownColumnError, match="nope"):
        desensitize_frame(
            source, policy=Policy.from_yaml("columns: {nope: {action: drop}}"), key=KEY
        )
    with pytest.raises(KeyFileError):
        desensitize_frame(source, key=b"short")


def test_in_memory_default_policy_matches_the_file_pipeline(
    tmp_path: Path, people_csv: Path
) -> None:
    out = tmp_path / "release.parquet"
    desensitize_table(people_csv, out, key=KEY, level="L1")
    source = pl.read_csv(people_csv, infer_schema=False)
    in_memory = desensitize_frame(source, key=KEY, level="L1")
    assert "id_number" not in in_memory.columns  # L1 drops direct identifiers
    assert_frame_equal(in_memory, pl.read_parquet(out), check_row_order=False)
