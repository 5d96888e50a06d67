"""Spans kept for a table's free text give the release the detector would give, without it."""

from __future__ import annotations

import random
from pathlib import Path

import polars as pl
import pytest

from desensitize import Policy, desensitize_frame, desensitize_table, synthetic
from desensitize.detect import texts_examined
from desensitize.exceptions import UnreadableFileError
from desensitize.namemodel import texts_read
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
    found, read = texts_examined(), texts_read()
    key = b"k" * 32
    desensitize_table(table, tmp_path / "kept.parquet", policy=POLICY, key=key, text_spans=kept)
    assert texts_examined() == found
    assert texts_read() == read  # no name model either, not even for the release's scan
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


JOINED = Policy.from_yaml(
    "level: L2\ncolumns:\n  name: {action: pseudonymize}\n  mobile: {action: pseudonymize}\n"
    "  note: {action: redact, pseudonymize_entities: true}\n"
)


def test_entities_in_text_take_the_grants_pseudonyms(tmp_path: Path) -> None:
    """A name or phone number in a note gets the pseudonym its column gets, under the grant's
    key: from kept spans and from spans found at once alike."""
    path = tmp_path / "j.csv"
    pl.DataFrame(
        {
            "name": ["王小明", "李四"],
            "mobile": ["13812345678", "13987654321"],
            "note": ["市民王小明（联系电话138-1234-5678）来电反映", "据李四反映，市民王小明来电"],
        }
    ).write_csv(path)
    kept = detect_table_spans(path, ["note"])
    outputs = []
    for key in (b"a" * 32, b"b" * 32):
        for spans in (kept, None):
            out = tmp_path / f"{key[:1].decode()}{spans is None}.parquet"
            desensitize_table(path, out, policy=JOINED, key=key, text_spans=spans)
            outputs.append(pl.read_parquet(out))
    a_kept, a_found, b_kept, _ = outputs
    assert a_kept.equals(a_found)
    name, mobile = a_kept.get_column("name").to_list(), a_kept.get_column("mobile").to_list()
    notes = a_kept.get_column("note").to_list()
    assert notes[0] == f"市民<PERSON:{name[0]}>（联系电话<CN_MOBILE:{mobile[0]}>）来电反映"
    assert notes[1] == f"据<PERSON:{name[1]}>反映，市民<PERSON:{name[0]}>来电"
    assert b_kept.get_column("note").to_list() != notes  # another grant, other pseudonyms
    in_memory = desensitize_frame(pl.read_csv(path), policy=JOINED, key=b"a" * 32)
    assert in_memory.equals(a_kept)


def test_pseudonymize_entities_goes_with_redact_only() -> None:
    from desensitize.exceptions import PolicyError

    with pytest.raises(PolicyError, match="only goes with action redact"):
        Policy.from_yaml("columns:\n  a: {action: keep, pseudonymize_entities: true}\n")
