"""Personal data in free text as spans: what was found where, apart from what is done with it.

``detect_text_spans(texts)`` gives, for each text, the spans of the entities in it (identifiers,
addresses, person names), overlaps resolved. The spans depend only on the texts, never on a grant
or its key, so they can be computed once per dataset version and applied to every grant's release
with :func:`apply_spans`.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import polars as pl

from desensitize import vectorized
from desensitize.engine import check_language
from desensitize.findings import EntityFinding, replace_findings
from desensitize.textscan import find_entities_in, uses_name_model

# Names what finds the spans: spans kept from another detector are found again.
DETECTOR = "rules-lac-4"


class _Counter:
    """How many texts the detector has examined in this process (shown by the bench, and the
    proof that spans kept per dataset version are not found again)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.texts = 0

    def add(self, n: int) -> None:
        with self._lock:
            self.texts += n


EXAMINED = _Counter()


def texts_examined() -> int:
    """The number of texts :func:`detect_text_spans` has examined in this process."""
    return EXAMINED.texts


@dataclass(frozen=True)
class Span:
    """An entity at ``text[start:end]`` of one text, with the recognizer's confidence."""

    entity: str
    start: int
    end: int
    score: float


def detect_text_spans(texts: Sequence[str | None], *, lang: str = "zh") -> list[list[Span]]:
    """For each text (``None`` for a missing cell), the entities in it, in text order."""
    check_language(lang)
    EXAMINED.add(len(texts))
    return [
        [] if text is None else [Span(f.entity, f.start, f.end, f.score) for f in found]
        for text, found in zip(texts, _findings(texts, lang), strict=True)
    ]


def _findings(texts: Sequence[str | None], lang: str) -> list[list[EntityFinding]]:
    present = [text for text in texts if text is not None]
    found = iter(find_entities_in(present, lang=lang))
    return [[] if text is None else next(found) for text in texts]


def apply_spans(texts: Sequence[str | None], spans: Sequence[Sequence[Span]]) -> list[str | None]:
    """Each text with its spans replaced by ``<ENTITY_TYPE>`` (``None`` stays ``None``)."""
    return [
        None
        if text is None
        else replace_findings(
            text, (EntityFinding(s.entity, s.start, s.end, s.score, "") for s in found)
        )
        for text, found in zip(texts, spans, strict=True)
    ]


def redact_texts(texts: Sequence[str | None], *, lang: str = "zh") -> list[str | None]:
    """Each text with every entity in it replaced by ``<ENTITY_TYPE>``."""
    return apply_spans(texts, detect_text_spans(texts, lang=lang))


# Texts are read on two threads in chunks of CHUNK: while one thread runs the model (outside the
# GIL), the other runs the rules and completes the model's names (Python).
CHUNK = 200
THREADS = 2
MIN_SPLIT = 64


def detect_column_spans(values: pl.Series, *, lang: str = "zh") -> list[list[Span]]:
    """:func:`detect_text_spans` of a column's cells (as text), on two threads."""
    texts: list[str | None] = values.cast(pl.String).to_list()
    if len(texts) < MIN_SPLIT:
        return detect_text_spans(texts, lang=lang)
    size = min(CHUNK, -(-len(texts) // THREADS))
    chunks = [texts[at : at + size] for at in range(0, len(texts), size)]
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        parts = pool.map(lambda chunk: detect_text_spans(chunk, lang=lang), chunks)
        return [spans for part in parts for spans in part]


def redact_column(values: pl.Series, *, lang: str = "zh") -> pl.Series:
    """Every entity in each free-text cell of ``values`` replaced by ``<ENTITY_TYPE>``.

    With the name model off, the vectorised rules do it (:func:`vectorized.redact_parallel`)."""
    if not uses_name_model(lang):
        return vectorized.redact_parallel(values)
    texts: list[str | None] = values.cast(pl.String).to_list()
    redacted = apply_spans(texts, detect_column_spans(values, lang=lang))
    return pl.Series(values.name, redacted, dtype=pl.String)


def redact_columns(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """``frame`` with the free text of ``columns`` redacted (for ``LazyFrame.map_batches``)."""
    return frame.with_columns(redact_column(frame.get_column(c)) for c in columns)
