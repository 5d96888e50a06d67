"""Unified social credit code (统一社会信用代码), GB 32100: MOD 31 over 31 characters."""

from __future__ import annotations

from presidio_analyzer import Pattern

from desensitize.checksums import is_valid_uscc
from desensitize.recognizers.base import LEFT, RIGHT, CheckedPatternRecognizer


class UsccRecognizer(CheckedPatternRecognizer):
    """18-character codes in upper case; one that is also a valid ID number is left to that."""

    ENTITY = "CN_USCC"
    CHECKSUM = True
    PATTERNS = (Pattern("uscc", LEFT + r"[0-9A-Z]{2}[0-9]{6}[0-9A-Z]{10}" + RIGHT, 0.3),)
    CONTEXT = ("统一社会信用代码", "信用代码", "社会信用代码", "uscc")

    @staticmethod
    def is_valid(candidate: str) -> bool:
        return is_valid_uscc(candidate)
