"""Bank card number (银行卡号): card scheme prefix and length, Luhn; never a valid ID number."""

from __future__ import annotations

from presidio_analyzer import Pattern

from desensitize.checksums import is_valid_bank_card
from desensitize.recognizers.base import LEFT, RIGHT, CheckedPatternRecognizer

SPACED_CARD = r"[2-69][0-9]{3}(?:[ -][0-9]{4}){2,3}(?:[ -][0-9]{1,3})?"


class BankCardRecognizer(CheckedPatternRecognizer):
    """13–19 digit card numbers, bare or in groups of four."""

    ENTITY = "CN_BANK_CARD"
    CHECKSUM = True
    PATTERNS = (
        Pattern("card", LEFT + r"[2-69][0-9]{12,18}" + RIGHT, 0.3),
        Pattern("card in groups", LEFT + SPACED_CARD + RIGHT, 0.3),
    )
    CONTEXT = ("银行卡", "卡号", "账号", "储蓄卡", "信用卡", "card")

    @staticmethod
    def is_valid(candidate: str) -> bool:
        return is_valid_bank_card(candidate.replace(" ", "").replace("-", ""))
