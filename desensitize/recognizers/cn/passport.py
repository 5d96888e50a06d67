"""PRC passport number (护照号码): E + 8 digits, E + letter + 7 digits, or G + 8 digits."""

from __future__ import annotations

import re

from presidio_analyzer import Pattern

from desensitize.recognizers.base import LEFT, RIGHT, CheckedPatternRecognizer

PASSPORT = re.compile(r"E[0-9]{8}|E[A-HJ-NP-Z][0-9]{7}|G[0-9]{8}")


class PassportRecognizer(CheckedPatternRecognizer):
    """Ordinary passports of the PRC; the letters must be upper case."""

    ENTITY = "CN_PASSPORT"
    PATTERNS = (Pattern("passport", LEFT + r"[EG][0-9A-Z][0-9]{7}" + RIGHT, 0.6),)
    CONTEXT = ("护照", "护照号", "passport")

    @staticmethod
    def is_valid(candidate: str) -> bool:
        return PASSPORT.fullmatch(candidate) is not None
