"""Presidio recognizers for Chinese personal data, one per file, and the registry of them.

``recognizers_for(lang)`` lists the recognizers used for a language: the Chinese identifier
recognizers and e-mail (whose rules do not depend on the language) everywhere, names (by the rules
and, unless the ``name_model`` setting is off, by the LAC model) and addresses for ``zh``, and Presidio's own offline recognizers (IP addresses, IBAN, phone numbers with
the ``phonenumbers`` metadata) for ``en``.
"""

from __future__ import annotations

from presidio_analyzer import EntityRecognizer
from presidio_analyzer.predefined_recognizers import (
    IbanRecognizer,
    IpRecognizer,
    PhoneRecognizer,
)

from desensitize.config import settings
from desensitize.recognizers.base import CheckedPatternRecognizer
from desensitize.recognizers.cn.address import ChineseAddressRecognizer
from desensitize.recognizers.cn.bank_card import BankCardRecognizer
from desensitize.recognizers.cn.hkmo_permit import HkMoPermitRecognizer
from desensitize.recognizers.cn.id_card import IdCardRecognizer
from desensitize.recognizers.cn.landline import LandlineRecognizer
from desensitize.recognizers.cn.license_plate import LicensePlateRecognizer
from desensitize.recognizers.cn.mobile import MobileRecognizer
from desensitize.recognizers.cn.model_name import ChineseNameModelRecognizer
from desensitize.recognizers.cn.passport import PassportRecognizer
from desensitize.recognizers.cn.person_name import ChineseNameRecognizer
from desensitize.recognizers.cn.uscc import UsccRecognizer
from desensitize.recognizers.email import EmailRecognizer

LANGUAGES = ("zh", "en")

IDENTIFIER_RECOGNIZERS: tuple[type[CheckedPatternRecognizer], ...] = (
    IdCardRecognizer,
    UsccRecognizer,
    BankCardRecognizer,
    MobileRecognizer,
    LandlineRecognizer,
    PassportRecognizer,
    HkMoPermitRecognizer,
    LicensePlateRecognizer,
    EmailRecognizer,
)
CHINESE_TEXT_RECOGNIZERS: tuple[type[CheckedPatternRecognizer], ...] = (
    ChineseAddressRecognizer,
    ChineseNameRecognizer,
)

__all__ = [
    "BankCardRecognizer",
    "CheckedPatternRecognizer",
    "ChineseAddressRecognizer",
    "ChineseNameModelRecognizer",
    "ChineseNameRecognizer",
    "EmailRecognizer",
    "HkMoPermitRecognizer",
    "IdCardRecognizer",
    "LandlineRecognizer",
    "LicensePlateRecognizer",
    "MobileRecognizer",
    "PassportRecognizer",
    "UsccRecognizer",
    "recognizers_for",
]


def recognizers_for(lang: str) -> list[EntityRecognizer]:
    """Every recognizer used for text in ``lang``, each set to that language."""
    own: list[type[CheckedPatternRecognizer]] = list(IDENTIFIER_RECOGNIZERS)
    if lang == "zh":
        own += CHINESE_TEXT_RECOGNIZERS
    found: list[EntityRecognizer] = [cls(supported_language=lang) for cls in own]
    if lang == "zh" and settings().name_model:
        found.append(ChineseNameModelRecognizer(supported_language=lang))
    if lang == "en":
        found += [
            IpRecognizer(supported_language=lang),
            IbanRecognizer(supported_language=lang),
            PhoneRecognizer(supported_language=lang),
        ]
    return found
