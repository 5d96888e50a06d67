"""The ``pds scan``, ``pds redact`` and ``pds desensitize`` commands, run as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl

PDS = str(Path(sys.executable).with_name("pds"))


def pds(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PDS, *args], input=stdin, capture_output=True, text=True, encoding="utf-8", timeout=300
    )


def test_scan_json(people_csv: Path) -> None:
    done = pds("scan", str(people_csv), "--json")
    assert done.returncode == 0, done.stderr
    columns = {c["name"]: c for c in json.loads(done.stdout)["columns"]}
    assert columns["id_number"]["entity"] == "CN_ID_CARD"
    assert columns["mobile"]["entity"] == "CN_MOBILE"
    assert columns["order_no"]["entity"] is None
    assert 0 < columns["name"]["score"] <= 1


def test_redact_lines() -> None:
    text = "市民王小明，电话+86 138-1234-5678\n订单号207167928093392155\nmail a@b.com\n"
    done = pds("redact", stdin=text)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        "市民<PERSON>，电话<CN_MOBILE>\n订单号207167928093392155\nmail <EMAIL_ADDRESS>\n"
    )
    english = pds("redact", "--lang", "en", stdin="王小明 13812345678")
    assert english.stdout == "王小明 <CN_MOBILE>"


def test_desensitize(tmp_path: Path, people_csv: Path, people_policy: Path) -> None:
    key = tmp_path / "grant.key"
    key.write_text("00" * 32)
    out = tmp_path / "release.csv"
    done = pds(
        "desensitize", str(people_csv), "--out", str(out), "--policy", str(people_policy),
        "--key-file", str(key),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "rows written" in done.stdout
    result = pl.read_csv(out, infer_schema=False)
    assert "bank_card" not in result.columns
    report = json.loads(out.with_name("release.csv.report.json").read_text())
    assert report["output_sha256"] and report["policy"]["dataset"] == "people-sample"


def test_user_errors_are_one_line_and_exit_2(tmp_path: Path, people_csv: Path) -> None:
    policy = tmp_path / "bad.yaml"
    policy.write_text("columns: {ghost: {action: drop}}\n")
    out = tmp_path / "o.parquet"
    cases = [
        (("scan", str(tmp_path / "nope.csv")), "nope.csv"),
        (("desensitize", str(people_csv), "--out", str(out), "--policy", str(policy)), "ghost"),
        (("desensitize", str(people_csv), "--out", str(out), "--key-file", "/no/key"), "/no/key"),
    ]
    for args, needle in cases:
        done = pds(*args)
        assert done.returncode == 2, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and needle in lines[0], done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]
