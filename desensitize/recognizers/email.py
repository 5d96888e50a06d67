"""E-mail address, ASCII only (so it never swallows the Chinese text before it), checked offline."""

from __future__ import annotations

import re

from presidio_analyzer import Pattern

from desensitize.recognizers.base import LEFT, RIGHT, CheckedPatternRecognizer

EMAIL = (
    r"[A-Za-z0-9][A-Za-z0-9._%+\-]*@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,24}"
)
TOP_LEVEL = re.compile(r"[A-Za-z]{2,24}")


class EmailRecognizer(CheckedPatternRecognizer):
    """RFC 5321 shaped addresses; no public-suffix lookup (which would reach the network)."""

    ENTITY = "EMAIL_ADDRESS"
    PATTERNS = (Pattern("email", LEFT + EMAIL + RIGHT, 0.9),)
    CONTEXT = ("邮箱", "电子邮件", "email", "e-mail", "mail")

    @staticmethod
    def is_valid(candidate: str) -> bool:
        local, _, domain = candidate.rpartition("@")
        return (
            0 < len(local) <= 64
            and ".." not in candidate
            and len(domain) <= 253
            and TOP_LEVEL.fullmatch(domain.rsplit(".", 1)[-1]) is not None
        )
