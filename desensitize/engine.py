"""Presidio's analyzer, offline: the ``no_op`` NLP engine (no spaCy model) and this package's recognizers.

Used for export-file scanning where a second opinion is wanted, and as the reference the fast text
scanner (:mod:`desensitize.textscan`) is tested and benchmarked against.
"""

from __future__ import annotations

import functools

from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
from presidio_analyzer.nlp_engine import NlpEngineProvider

from desensitize.exceptions import UnsupportedLanguageError
from desensitize.findings import EntityFinding, without_overlaps
from desensitize.recognizers import LANGUAGES, recognizers_for


def check_language(lang: str) -> str:
    """``lang`` if recognizers exist for it, else :class:`UnsupportedLanguageError`."""
    if lang not in LANGUAGES:
        raise UnsupportedLanguageError(f"unsupported language {lang!r}: use one of {LANGUAGES}")
    return lang


@functools.cache
def analyzer() -> AnalyzerEngine:
    """An analyzer for every supported language that loads no model and reaches no network."""
    provider = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "no_op",
            "models": [{"lang_code": lang, "model_name": "none"} for lang in LANGUAGES],
        }
    )
    registry = RecognizerRegistry(supported_languages=list(LANGUAGES))
    for lang in LANGUAGES:
        for recognizer in recognizers_for(lang):
            registry.add_recognizer(recognizer)
    return AnalyzerEngine(
        registry=registry,
        nlp_engine=provider.create_engine(),
        supported_languages=list(LANGUAGES),
    )


def presidio_find(text: str, *, lang: str = "zh") -> list[EntityFinding]:
    """Entities in ``text`` found by Presidio's analyzer, overlaps resolved."""
    results = analyzer().analyze(text, language=check_language(lang))
    return without_overlaps(
        EntityFinding(r.entity_type, r.start, r.end, r.score, text[r.start : r.end])
        for r in results
    )
