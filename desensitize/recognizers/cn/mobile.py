"""Mainland mobile number (手机号码): bare, with +86/0086, spaces or dashes."""

from __future__ import annotations

from presidio_analyzer import Pattern

from desensitize.checksums import is_valid_mobile
from desensitize.recognizers.base import LEFT, RIGHT, CheckedPatternRecognizer

MOBILE_BODY = r"1[3-9][0-9](?:[ -]?[0-9]{4}){2}"


class MobileRecognizer(CheckedPatternRecognizer):
    """11-digit mobile numbers starting 13–19, written as people write them."""

    ENTITY = "CN_MOBILE"
    PATTERNS = (
        Pattern(
            "mobile",
            r"(?:\+86[ -]?|" + LEFT + r"(?:00)?86[ -]?|" + LEFT + ")" + MOBILE_BODY + RIGHT,
            0.7,
        ),
    )
    CONTEXT = ("手机", "电话", "联系方式", "mobile", "tel")

    @staticmethod
    def is_valid(candidate: str) -> bool:
        return is_valid_mobile(candidate)
