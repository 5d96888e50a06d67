"""Resident ID number (居民身份证号码), GB 11643: MOD 11-2 check character, birth date."""

from __future__ import annotations

from presidio_analyzer import Pattern

from desensitize.checksums import is_valid_id_number
from desensitize.recognizers.base import LEFT, RIGHT, CheckedPatternRecognizer


class IdCardRecognizer(CheckedPatternRecognizer):
    """18-character ID numbers; a lowercase ``x`` check character is accepted."""

    ENTITY = "CN_ID_CARD"
    CHECKSUM = True
    PATTERNS = (Pattern("id number (18)", LEFT + r"[1-9][0-9]{16}[0-9Xx]" + RIGHT, 0.4),)
    CONTEXT = ("身份证", "身份证号", "证件号", "公民身份号码", "id")

    @staticmethod
    def is_valid(candidate: str) -> bool:
        return is_valid_id_number(candidate)
