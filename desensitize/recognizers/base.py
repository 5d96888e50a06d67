"""The base of this package's recognizers: a Presidio pattern recognizer with a validity rule."""

from __future__ import annotations

from typing import ClassVar

import regex
from presidio_analyzer import Pattern, PatternRecognizer

# Alphanumeric boundaries that also hold next to Chinese characters (``\b`` does not).
LEFT = r"(?<![0-9A-Za-z_])"
RIGHT = r"(?![0-9A-Za-z_])"


class CheckedPatternRecognizer(PatternRecognizer):
    """Matches of ``PATTERNS`` are kept only when ``is_valid`` accepts them.

    A recognizer whose rule is a checksum (``CHECKSUM = True``) raises a valid match to score 1.0;
    one with a format rule only keeps the pattern's score.
    """

    ENTITY: ClassVar[str]
    PATTERNS: ClassVar[tuple[Pattern, ...]]
    CONTEXT: ClassVar[tuple[str, ...]] = ()
    CHECKSUM: ClassVar[bool] = False

    def __init__(self, supported_language: str = "zh") -> None:
        super().__init__(
            supported_entity=self.ENTITY,
            name=type(self).__name__,
            patterns=[Pattern(p.name, p.regex, p.score) for p in self.PATTERNS],
            context=list(self.CONTEXT),
            supported_language=supported_language,
            global_regex_flags=regex.MULTILINE,
        )

    @staticmethod
    def is_valid(candidate: str) -> bool:
        """True when ``candidate`` (a whole match) is a real identifier of this kind."""
        return True

    def validate_result(self, pattern_text: str) -> bool | None:
        """Presidio's hook: ``False`` drops the match, ``True`` raises it to certainty."""
        if not self.is_valid(pattern_text):
            return False
        return True if self.CHECKSUM else None
