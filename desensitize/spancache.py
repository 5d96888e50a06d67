"""The spans found in a table's free-text columns, as one table that can be kept and reapplied.

The spans of a text depend on the text only, never on a grant or its key: they are found once per
dataset version (:func:`detect_table_spans`), kept (:func:`spans_to_bytes`), and each release
replaces them in its batches (:func:`redact_with_spans`) without running the detector again.
A span table has one row per span: ``column``, ``row`` (of the table, from 0), ``entity``,
``start``, ``end`` (character offsets) and ``score``, sorted by column and row.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import polars as pl

from desensitize.detect import Span, apply_spans, detect_text_spans
from desensitize.exceptions import UnreadableFileError
from desensitize.tableio import reading, table_batches

SPAN_SCHEMA = pl.Schema(
    {
        "column": pl.String(),
        "row": pl.UInt64(),
        "entity": pl.String(),
        "start": pl.UInt32(),
        "end": pl.UInt32(),
        "score": pl.Float32(),
    }
)
# Texts handed to the detector at once (progress is reported after each slice).
SLICE_ROWS = 2_000


def _span_rows(column: str, first_row: int, found: list[list[Span]]) -> pl.DataFrame:
    rows = [
        (column, first_row + i, s.entity, s.start, s.end, s.score)
        for i, spans in enumerate(found)
        for s in spans
    ]
    return pl.DataFrame(rows, schema=SPAN_SCHEMA, orient="row")


def detect_table_spans(
    path: Path,
    columns: Sequence[str],
    *,
    lang: str = "zh",
    progress: Callable[[int], None] | None = None,
) -> pl.DataFrame:
    """The spans in ``columns`` of the table in ``path``, read in the batches a release reads;
    ``progress`` is called with the number of rows done after each slice."""
    parts = [pl.DataFrame(schema=SPAN_SCHEMA)]
    done = 0
    with reading(path):
        for batch in table_batches(path):
            missing = [c for c in columns if c not in batch.columns]
            if missing:
                raise UnreadableFileError(f"{path}: no column {missing[0]!r}")
            for piece in batch.iter_slices(SLICE_ROWS):
                for column in columns:
                    texts = piece.get_column(column).cast(pl.String).to_list()
                    parts.append(_span_rows(column, done, detect_text_spans(texts, lang=lang)))
                done += piece.height
                if progress is not None:
                    progress(done)
    return pl.concat(parts).sort("column", "row", "start")


def spans_to_bytes(spans: pl.DataFrame) -> bytes:
    """A span table as Parquet bytes (to be sealed like the raw data it comes from)."""
    buffer = io.BytesIO()
    spans.select(SPAN_SCHEMA.names()).cast(SPAN_SCHEMA).write_parquet(buffer)
    return buffer.getvalue()


def spans_from_bytes(data: bytes) -> pl.DataFrame:
    """The span table written by :func:`spans_to_bytes`."""
    frame = pl.read_parquet(io.BytesIO(data))
    if frame.schema != SPAN_SCHEMA:
        raise UnreadableFileError("kept spans have an unexpected layout")
    return frame


def split_by_column(spans: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """The spans of each column, sorted by row (as :func:`redact_with_spans` wants them)."""
    return {
        str(name[0]): part.sort("row", "start")
        for name, part in spans.partition_by("column", as_dict=True).items()
    }


def spans_of(texts: pl.Series, first_row: int, *, lang: str = "zh") -> pl.DataFrame:
    """The spans in ``texts`` (the table's rows from ``first_row`` on), found now."""
    found = detect_text_spans(texts.cast(pl.String).to_list(), lang=lang)
    return _span_rows(texts.name, first_row, found)


# Replacement texts for the entities found in a batch, given as (entity, text) pairs.
Labeller = Callable[[list[tuple[str, str]]], list[str]]


def redact_with_spans(
    texts: pl.Series, spans: pl.DataFrame, first_row: int, *, label: Labeller | None = None
) -> pl.Series:
    """``texts`` (the table's rows from ``first_row`` on) with the kept spans of their column
    replaced by ``<ENTITY_TYPE>``, or by what ``label`` gives for each (entity, text);
    ``spans`` are one column's, sorted by row."""
    rows = spans.get_column("row")
    low = rows.search_sorted(first_row, side="left")
    high = rows.search_sorted(first_row + texts.len(), side="left")
    per_row: list[list[Span]] = [[] for _ in range(texts.len())]
    values = texts.cast(pl.String).to_list()
    found: list[tuple[str, str]] = []
    for _, row, entity, start, end, score in spans.slice(low, high - low).iter_rows():
        text = values[row - first_row]
        if text is None or end > len(text):
            raise UnreadableFileError("kept spans do not fit the table they were found in")
        per_row[row - first_row].append(Span(entity, start, end, score))
        found.append((entity, text[start:end]))
    if label is None:
        return pl.Series(texts.name, apply_spans(values, per_row), dtype=pl.String)
    labels = iter(label(found))
    replaced = [
        None if text is None else _replace(text, spans_here, labels)
        for text, spans_here in zip(values, per_row, strict=True)
    ]
    return pl.Series(texts.name, replaced, dtype=pl.String)


def _replace(text: str, spans: list[Span], labels: Iterator[str]) -> str:
    """``text`` with each span (in order, not overlapping) replaced by the next label."""
    parts, last = [], 0
    for span in spans:
        parts += [text[last : span.start], next(labels)]
        last = span.end
    parts.append(text[last:])
    return "".join(parts)
