"""Licence plate (机动车号牌), GA 36: ordinary and new-energy, with or without ``·``."""

from __future__ import annotations

from presidio_analyzer import Pattern

from desensitize.lexicon import PLATE_PROVINCES
from desensitize.recognizers.base import RIGHT, CheckedPatternRecognizer

PLATE_SEPARATORS = "·•・. -"
PLATE = f"[{PLATE_PROVINCES}][A-HJ-NP-Z][·•・. -]?[A-HJ-NP-Z0-9]{{5,6}}"
LETTERS = frozenset("ABCDEFGHJKLMNPQRSTUVWXYZ")
DIGITS = frozenset("0123456789")


def is_valid_plate(candidate: str) -> bool:
    """Ordinary: five characters, two or more digits; new-energy: D/F + five, or five + D/F."""
    if len(candidate) < 7 or candidate[1] not in LETTERS:
        return False
    body = candidate[2:].lstrip(PLATE_SEPARATORS)
    if len(body) == 6:
        small = body[0] in "DF" and (body[1] in LETTERS or body[1] in DIGITS)
        small = small and all(c in DIGITS for c in body[2:])
        large = all(c in DIGITS for c in body[:5]) and body[5] in "DF"
        return small or large
    if len(body) != 5 or any(c not in LETTERS and c not in DIGITS for c in body):
        return False
    return sum(c in DIGITS for c in body) >= 2


class LicensePlateRecognizer(CheckedPatternRecognizer):
    """Plates such as ``浙A·12345``, ``浙A12345``, ``粤BD12345`` and ``沪A12345D``."""

    ENTITY = "CN_LICENSE_PLATE"
    PATTERNS = (Pattern("plate", PLATE + RIGHT, 0.7),)
    CONTEXT = ("车牌", "车牌号", "号牌", "车辆")

    @staticmethod
    def is_valid(candidate: str) -> bool:
        return is_valid_plate(candidate)
