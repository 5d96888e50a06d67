"""Mainland fixed-line number (固定电话): an area code set apart and a local number.

Only numbers whose area code is set apart are taken ("0571-87654321", "(0571)87654321",
"+86 571 8765 4321"): a bare run of digits is as likely an order number. Beijing (010) and the
02X cities have 8-digit local numbers, the other areas 7 or 8 digits. The entity is Presidio's
``PHONE_NUMBER``.
"""

from __future__ import annotations

from presidio_analyzer import Pattern

from desensitize.checksums import is_valid_landline
from desensitize.recognizers.base import LEFT, RIGHT, CheckedPatternRecognizer

AREA_DIGITS = "(?:10|2[0-9]|[3-9][0-9]{2})"
AREA = "0" + AREA_DIGITS
LOCAL = "[2-9][0-9]{2,3}[ -]?[0-9]{4}"


def landline(left: str) -> str:
    """The forms of a fixed-line number; ``left`` is the boundary before a leading digit."""
    return (
        rf"(?:(?:\+86|{left}0086)[ -]?{AREA_DIGITS}[ -]{LOCAL}"
        f"|{left}{AREA}[ -]{LOCAL}"
        f"|[(（]{AREA}[)）][ -]?{LOCAL})"
    )


class LandlineRecognizer(CheckedPatternRecognizer):
    """Fixed-line numbers with their area code, written as people write them."""

    ENTITY = "PHONE_NUMBER"
    PATTERNS = (Pattern("fixed line", landline(LEFT) + RIGHT, 0.7),)
    CONTEXT = ("电话", "座机", "固话", "联系方式", "tel")

    @staticmethod
    def is_valid(candidate: str) -> bool:
        return is_valid_landline(candidate)
