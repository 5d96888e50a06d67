"""Spans per text, independent of any key: applying them gives the scanner's redaction."""

from __future__ import annotations

import random

import pytest

from desensitize import synthetic
from desensitize.detect import Span, apply_spans, detect_text_spans, redact_texts
from desensitize.exceptions import UnsupportedLanguageError
from desensitize.textscan import redact_text


def test_spans_point_at_the_entities_and_missing_cells_have_none() -> None:
    text = "市民王小明（联系电话13812345678）来电反映"
    (spans, missing, empty) = detect_text_spans([text, None, ""])
    assert missing == empty == []
    assert [(s.entity, text[s.start : s.end]) for s in spans] == [
        ("PERSON", "王小明"),
        ("CN_MOBILE", "13812345678"),
    ]
    assert all(isinstance(s, Span) and 0 < s.score <= 1 for s in spans)


def test_applying_the_spans_is_the_redaction() -> None:
    rng = random.Random(3)
    texts: list[str | None] = [synthetic.hotline_complaint(rng) for _ in range(50)]
    texts.append(None)
    spans = detect_text_spans(texts)
    assert apply_spans(texts, spans) == redact_texts(texts)
    assert redact_texts(texts)[:-1] == [redact_text(t) for t in texts[:-1] if t is not None]
    assert redact_texts(texts)[-1] is None


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(UnsupportedLanguageError):
        detect_text_spans(["x"], lang="xx")
