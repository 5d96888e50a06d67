"""The usual way Presidio finds Chinese names, as the baseline of the name benchmarks: jieba's
part-of-speech tagging (a word tagged ``nr``, ``nrfg`` or ``nrt`` is a person) as a Presidio
recognizer, beside this project's identifier and address rules."""

from __future__ import annotations

import functools
import logging

from presidio_analyzer import (
    AnalysisExplanation,
    AnalyzerEngine,
    EntityRecognizer,
    RecognizerRegistry,
    RecognizerResult,
)
from presidio_analyzer.nlp_engine import NlpArtifacts, NlpEngineProvider

from desensitize.recognizers import (
    ChineseNameModelRecognizer,
    ChineseNameRecognizer,
    recognizers_for,
)

PERSON_FLAGS = {"nr", "nrfg", "nrt"}


class JiebaNameRecognizer(EntityRecognizer):
    """Person names by jieba's part-of-speech tags."""

    def __init__(self) -> None:
        super().__init__(
            supported_entities=["PERSON"], name="JiebaNameRecognizer", supported_language="zh"
        )

    def load(self) -> None:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        import jieba.posseg

        found, at = [], 0
        for word, flag in jieba.posseg.cut(text):
            if flag in PERSON_FLAGS:
                explanation = AnalysisExplanation("JiebaNameRecognizer", 0.85, "jieba tag " + flag)
                found.append(RecognizerResult("PERSON", at, at + len(word), 0.85, explanation))
            at += len(word)
        return found


def _engine(*, jieba: bool) -> AnalyzerEngine:
    provider = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "no_op",
            "models": [{"lang_code": "zh", "model_name": "none"}],
        }
    )
    registry = RecognizerRegistry(supported_languages=["zh"])
    names = (ChineseNameRecognizer, ChineseNameModelRecognizer)
    for recognizer in recognizers_for("zh"):
        if isinstance(recognizer, ChineseNameModelRecognizer):
            continue
        if jieba and isinstance(recognizer, names):
            continue
        registry.add_recognizer(recognizer)
    if jieba:
        registry.add_recognizer(JiebaNameRecognizer())
    return AnalyzerEngine(
        registry=registry, nlp_engine=provider.create_engine(), supported_languages=["zh"]
    )


@functools.cache
def jieba_analyzer() -> AnalyzerEngine:
    """Presidio with this project's identifier and address rules and jieba's names."""
    return _engine(jieba=True)


@functools.cache
def rules_analyzer() -> AnalyzerEngine:
    """Presidio with this project's rules alone (no name model)."""
    return _engine(jieba=False)
