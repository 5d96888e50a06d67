"""Fast scanning of free text with the same recognizers that Presidio runs.

Presidio runs every pattern of every recognizer over the text and builds an explanation for each
match. Here one pass of a combined pattern splits the text into candidate tokens (e-mails, written
phone numbers, grouped card numbers, plates and whole alphanumeric runs) and each token is given to
the validity rules of the recognizers, in a fixed order; addresses and names get one pass each.
The recognizers' patterns all end at alphanumeric boundaries, so a whole run is exactly what they
would match: the two agree (see the tests), this one is many times faster.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence

import regex
from presidio_analyzer import EntityRecognizer, Pattern, PatternRecognizer

from desensitize.engine import check_language
from desensitize.findings import EntityFinding, replace_findings, without_overlaps
from desensitize.lexicon import DOUBLE_SURNAMES, NAME_TRIGGERS, PLATE_PROVINCES, SINGLE_SURNAMES
from desensitize.recognizers import (
    BankCardRecognizer,
    CheckedPatternRecognizer,
    ChineseAddressRecognizer,
    ChineseNameModelRecognizer,
    ChineseNameRecognizer,
    EmailRecognizer,
    HkMoPermitRecognizer,
    IdCardRecognizer,
    LandlineRecognizer,
    LicensePlateRecognizer,
    MobileRecognizer,
    PassportRecognizer,
    UsccRecognizer,
    recognizers_for,
)
from desensitize.recognizers.base import LEFT, RIGHT
from desensitize.recognizers.cn.bank_card import SPACED_CARD
from desensitize.recognizers.cn.license_plate import PLATE
from desensitize.recognizers.email import EMAIL

# A token starts with one of these characters; the guard lets the scan skip the rest fast.
TOKEN_START = f"(?=[0-9A-Za-z_+(（{PLATE_PROVINCES}])"
TOKEN = re.compile(
    TOKEN_START
    + "(?:"
    + "|".join(
        (
            f"(?P<email>{LEFT}{EMAIL}{RIGHT})",
            f"(?P<mobile>{MobileRecognizer.PATTERNS[0].regex})",
            f"(?P<landline>{LandlineRecognizer.PATTERNS[0].regex})",
            f"(?P<card>{LEFT}{SPACED_CARD}{RIGHT})",
            f"(?P<plate>{PLATE}{RIGHT})",
            r"(?P<run>[0-9A-Za-z_]+)",
        )
    )
    + ")"
)
BY_GROUP: dict[str, tuple[type[CheckedPatternRecognizer], ...]] = {
    "email": (EmailRecognizer,),
    "mobile": (MobileRecognizer,),
    "landline": (LandlineRecognizer,),
    "card": (BankCardRecognizer,),
    "plate": (LicensePlateRecognizer,),
    # The order in which a whole alphanumeric run is tried.
    "run": (
        IdCardRecognizer,
        UsccRecognizer,
        BankCardRecognizer,
        MobileRecognizer,
        PassportRecognizer,
        HkMoPermitRecognizer,
    ),
}
RUN_LENGTHS = {9, 10, 11, 13, 14, 15, 16, 17, 18, 19}
ADDRESS = regex.compile(ChineseAddressRecognizer.PATTERNS[0].regex)
NAME = regex.compile(ChineseNameRecognizer.PATTERNS[0].regex)

# Every address has a road and house number ("路100号") within this many characters of its start
# and its end; every name starts with a surname character. Only there do the patterns need trying.
ROAD_HOUSE = re.compile("(?:路|街|巷|弄|同|村|道)[0-9０-９]{1,5}(?:-[0-9０-９]{1,4})?号")
ADDRESS_REACH = (70, 40)
SURNAME_CHARS = "".join(sorted(set(SINGLE_SURNAMES) | {d[0] for d in DOUBLE_SURNAMES}))
SURNAME_START = re.compile(f"[{SURNAME_CHARS}]")
TRIGGERS = tuple(NAME_TRIGGERS)
# Cheap necessary conditions for Presidio's own recognizers (a text without them has no match).
PREFILTERS = {
    "IP_ADDRESS": re.compile(r"[0-9]\.[0-9]|[0-9A-Fa-f]?:[0-9A-Fa-f:]"),
    "IBAN_CODE": re.compile(r"[A-Za-z]{2}[ -]?[0-9]{2}"),
    "PHONE_NUMBER": re.compile(r"[0-9][^0-9]{0,3}[0-9]{2}"),
}


def _score(cls: type[CheckedPatternRecognizer]) -> float:
    return 1.0 if cls.CHECKSUM else cls.PATTERNS[0].score


def _tokens(text: str) -> Iterator[EntityFinding]:
    for m in TOKEN.finditer(text):
        group = m.lastgroup or "run"
        token = m.group()
        if group == "run" and len(token) not in RUN_LENGTHS:
            continue
        for cls in BY_GROUP[group]:
            if cls.is_valid(token):
                yield EntityFinding(cls.ENTITY, m.start(), m.end(), _score(cls), token)
                break


def _addresses(text: str) -> Iterator[regex.Match[str]]:
    """``ADDRESS.finditer(text)``, tried only in the stretches around house numbers."""
    stretches: list[list[int]] = []
    before, after = ADDRESS_REACH
    for m in ROAD_HOUSE.finditer(text):
        start, end = max(0, m.start() - before), min(len(text), m.end() + after)
        if stretches and start <= stretches[-1][1]:
            stretches[-1][1] = end
        else:
            stretches.append([start, end])
    for start, end in stretches:
        yield from ADDRESS.finditer(text, start, end)


def _names(text: str) -> Iterator[regex.Match[str]]:
    """``NAME.finditer(text)``, tried only where a surname character stands."""
    done = 0
    for m in SURNAME_START.finditer(text):
        at = m.start()
        if at < done:
            continue
        # The name pattern's look-behind fails after a CJK ideograph that ends no trigger word.
        if at and "\u4e00" <= text[at - 1] <= "\u9fff" and not text.endswith(TRIGGERS, 0, at):
            continue
        found = NAME.match(text, at)
        if found:
            done = found.end()
            yield found


def _chinese(text: str) -> Iterator[EntityFinding]:
    address, person = ChineseAddressRecognizer, ChineseNameRecognizer
    for m in _addresses(text):
        yield EntityFinding(address.ENTITY, m.start(), m.end(), _score(address), m.group())
    for m in _names(text):
        yield EntityFinding(person.ENTITY, m.start(), m.end(), _score(person), m.group())


@functools.cache
def _other_recognizers(lang: str) -> tuple[EntityRecognizer, ...]:
    """Recognizers of the language not covered by the token pass (Presidio's own, e.g. IP);
    the name model is run apart, on many texts at once."""
    return tuple(
        r
        for r in recognizers_for(lang)
        if not isinstance(r, CheckedPatternRecognizer | ChineseNameModelRecognizer)
    )


def _pattern_findings(recognizer: PatternRecognizer, text: str) -> Iterator[EntityFinding]:
    patterns: list[Pattern] = vars(recognizer)["patterns"]
    for pattern in patterns:
        compiled = regex.compile(pattern.regex, recognizer.global_regex_flags)
        for m in compiled.finditer(text):
            found = m.group()
            if not found or recognizer.invalidate_result(found):
                continue
            valid = recognizer.validate_result(found)
            if valid is False:
                continue
            score = EntityRecognizer.MAX_SCORE if valid else pattern.score
            entity = recognizer.supported_entities[0]
            yield EntityFinding(entity, m.start(), m.end(), score, found)


def _others(text: str, lang: str) -> Iterator[EntityFinding]:
    for recognizer in _other_recognizers(lang):
        prefilter = PREFILTERS.get(recognizer.supported_entities[0])
        if prefilter is not None and not prefilter.search(text):
            continue
        if isinstance(recognizer, PatternRecognizer):
            yield from _pattern_findings(recognizer, text)
            continue
        # the others (phone numbers) need no NLP artifacts
        for r in recognizer.analyze(text, recognizer.supported_entities, None):  # type: ignore[arg-type]
            found = text[r.start : r.end]
            yield EntityFinding(r.entity_type, r.start, r.end, r.score, found)


def rule_entities(text: str, *, lang: str = "zh") -> list[EntityFinding]:
    """Personal data in ``text`` found by the rules alone (no model), overlaps resolved."""
    check_language(lang)
    found = list(_tokens(text))
    if lang == "zh":
        found += _chinese(text)
    found += _others(text, lang)
    return without_overlaps(found)


def uses_name_model(lang: str) -> bool:
    """Whether names in ``lang`` text are also looked for by the model."""
    return any(isinstance(r, ChineseNameModelRecognizer) for r in recognizers_for(lang))


def find_entities_in(texts: Sequence[str], *, lang: str = "zh") -> list[list[EntityFinding]]:
    """:func:`find_entities` of each text; the name model reads the texts together."""
    found = [rule_entities(text, lang=lang) for text in texts]
    if uses_name_model(lang):
        named = ChineseNameModelRecognizer.find(texts, found)
        found = [without_overlaps([*a, *b]) for a, b in zip(found, named, strict=True)]
    return found


def find_entities(text: str, *, lang: str = "zh") -> list[EntityFinding]:
    """Personal data in ``text``: one finding per entity (the rules' and the name model's, the
    longest of overlapping ones), in text order."""
    return find_entities_in([text], lang=lang)[0]


def redact_text(text: str, *, lang: str = "zh") -> str:
    """``text`` with every entity replaced by ``<ENTITY_TYPE>``."""
    return replace_findings(text, find_entities(text, lang=lang))
