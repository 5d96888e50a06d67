"""Spans kept for a table's free text give the release the detector would give, without it."""

from __future__ import annotations

import random
from pathlib import Path

import polars as pl
import pytest

from desensitize import Policy, desensitize_table, synthetic
from desensitize.detect import texts_examined
from desensitize.exceptions import UnreadableFileError
from desensitize.spancache import (
    SLICE_ROWS,
    detect_table_spans,
    redact_with_spans,
    spans_from_bytes,
    spans_to_bytes,
)

POLICY = Policy.from_yaml(
    "level: L2\ncolumns:\n  name: {action: pseudonymize}\n  mobile: {action: pseudonymize}\n"
    "  note: {action: redact}\n  address: {action: redact}\n"
)


@pytest.fixture
def table(tmp_path: Path) -> Path:
    rng = random.Random(9)
    rows = [synthetic.fake_person_row(rng) for _ in range(SLICE_ROWS + 700)]
    path = tmp_path / "t.csv"
    pl.DataFrame(rows).select("name", "mobile", "address", "note").write_csv(path)
    return path


def test_kept_spans_give_the_same_release_and_run_no_detector(table: Path, tmp_path: Path) -> None:
    done: list[int] = []
    before = texts_examined()
    spans = detect_table_spans(table, ["note", "address"], progress=done.append)
    assert texts_examined() - before == 2 * (SLICE_ROWS + 700)
    assert done == [SLICE_ROWS, SLICE_ROWS + 700]
    kept = spans_from_bytes(spans_to_bytes(spans))
    assert kept.equals(spans)
    found = texts_examined()
    key = b"k" * 32
    desensitize_table(table, tmp_path / "kept.parquet", policy=POLICY, key=key, text_spans=kept)
    assert texts_examined() == found
    desensitize_table(table, tmp_path / "found.parquet", policy=POLICY, key=key)
    assert pl.read_parquet(tmp_path / "kept.parquet").equals(
        pl.read_parquet(tmp_path / "found.parquet")
    )


def test_spans_that_do_not_fit_the_text_are_refused(table: Path) -> None:
    spans = detect_table_spans(table, ["note"])
    texts = pl.read_csv(table, infer_schema=False).get_column("note")
    assert redact_with_spans(texts.head(10), spans, 0).str.contains("<").any()
    # texts shorter than the ones the spans were found in
    with pytest.raises(UnreadableFileError, match="do not fit"):
        redact_with_spans(texts.head(10).str.slice(0, 3), spans, 0)


def test_a_column_the_table_does_not_have_is_refused(table: Path) -> None:
    with pytest.raises(UnreadableFileError, match="nope"):
        detect_table_spans(table, ["nope"])
