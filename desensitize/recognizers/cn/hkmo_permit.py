"""Travel permits for Hong Kong and Macau: 往来港澳通行证 (``C``) and 回乡证 (``H``/``M``)."""

from __future__ import annotations

import re

from presidio_analyzer import Pattern

from desensitize.recognizers.base import LEFT, RIGHT, CheckedPatternRecognizer

PERMIT = re.compile(r"C[0-9]{8}|C[A-HJ-NP-Z][0-9]{7}|[HM][0-9]{8}(?:[0-9]{2})?")


class HkMoPermitRecognizer(CheckedPatternRecognizer):
    """``C`` + 8 characters (mainland residents); ``H``/``M`` + 8 or 10 digits (HK/Macau)."""

    ENTITY = "CN_HKMO_PERMIT"
    PATTERNS = (Pattern("permit", LEFT + r"[CHM][0-9A-Z][0-9]{7}(?:[0-9]{2})?" + RIGHT, 0.6),)
    CONTEXT = ("通行证", "港澳通行证", "回乡证", "permit")

    @staticmethod
    def is_valid(candidate: str) -> bool:
        return PERMIT.fullmatch(candidate) is not None
