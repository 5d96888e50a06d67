"""Personal data in free text as spans: what was found where, apart from what is done with it.

``detect_text_spans(texts)`` gives, for each text, the spans of the entities in it (identifiers,
addresses, person names), overlaps resolved. The spans depend only on the texts, never on a grant
or its key, so they can be computed once per dataset version and applied to every grant's release
with :func:`apply_spans`.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from desensitize.engine import check_language
from desensitize.findings import EntityFinding, replace_findings
from desensitize.textscan import find_entities

# Names what finds the spans: spans kept from another detector are found again.
DETECTOR = "rules-1"


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
    return [[] if text is None else find_entities(text, lang=lang) for text in texts]


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
