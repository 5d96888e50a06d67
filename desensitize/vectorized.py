"""The recognizers' rules as polars expressions, for whole table columns at once.

Polars' regex engine has no look-arounds, so the rules are written differently from the Presidio
patterns but decide the same: a cell *is* an identifier (``cell_is``), or identifiers *inside* a
free-text cell are replaced by ``<ENTITY_TYPE>`` (``redact``). Check digits are computed with
column arithmetic; the literal reference is :mod:`desensitize.checksums`, and the tests hold the two
(and the fast text scanner) to the same answers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import polars as pl

from desensitize.checksums import (
    CARD_SCHEMES,
    ID_CHECK_CHARS,
    ID_WEIGHTS,
    ORG_CODE_WEIGHTS,
    UNALLOCATED_MOBILE_SEGMENTS,
    USCC_ALPHABET,
    USCC_WEIGHTS,
)
from desensitize.lexicon import (
    DOUBLE_SURNAMES,
    NAME_STOPS,
    NAME_TRIGGERS,
    NOT_NAMES,
    PLACE_SUFFIXES,
    PLATE_PROVINCES,
    SINGLE_SURNAMES,
)
from desensitize.recognizers.cn.address import ADDRESS
from desensitize.recognizers.cn.bank_card import SPACED_CARD
from desensitize.recognizers.cn.landline import landline
from desensitize.recognizers.cn.license_plate import PLATE
from desensitize.recognizers.cn.mobile import MOBILE_BODY
from desensitize.recognizers.cn.person_name import GIVEN, NAME, SURNAME
from desensitize.recognizers.email import EMAIL

Rule = Callable[[pl.Expr], pl.Expr]

WORD_END = r"(?-u:\b)"  # an ASCII word boundary: holds next to Chinese characters
MOBILE = rf"(?:\+86[ -]?|{WORD_END}(?:00)?86[ -]?|{WORD_END}){MOBILE_BODY}{WORD_END}"
CARD_SCHEME = (
    "^(?:"
    + "|".join(
        f"{prefix}[0-9]{{{length - len(prefix)}}}"
        for prefixes, lengths in CARD_SCHEMES
        for prefix in prefixes
        for length in lengths
    )
    + ")$"
)
PLACE_END = f"[{PLACE_SUFFIXES}]$"
USCC_SHAPE = r"^[1-9ANY][1-9][0-9]{6}[0-9A-HJ-NP-RTUW-Y]{10}$"
ID_SHAPE = r"^[1-9][0-9]{16}[0-9Xx]$"
PASSPORT = r"^(?:E[0-9]{8}|E[A-HJ-NP-Z][0-9]{7}|G[0-9]{8})$"
HKMO_PERMIT = r"^(?:C[0-9]{8}|C[A-HJ-NP-Z][0-9]{7}|[HM][0-9]{8}(?:[0-9]{2})?)$"
PLATE_SHAPE = (
    f"^[{PLATE_PROVINCES}][A-HJ-NP-Z][·•・. -]?"
    "(?:[DF][A-HJ-NP-Z0-9][0-9]{4}|[0-9]{5}[DF]|[A-HJ-NP-Z0-9]{5})$"
)


def _char_codes(values: pl.Series, ok: pl.Series, width: int) -> np.ndarray:
    """The ASCII codes of the ``ok`` values, one row of ``width`` each (``0`` for the others).

    ``ok`` must only hold values of exactly ``width`` ASCII characters."""
    padded = pl.select(
        pl.when(ok).then(values).otherwise(pl.lit("0" * width)).cast(pl.Binary)
    ).to_series()
    return padded.bin.reinterpret(dtype=pl.Array(pl.UInt8, width)).to_numpy()


def _lookup(table: dict[str, int]) -> np.ndarray:
    """A 256-entry array from ASCII code to the value of that character (``-1`` if none)."""
    values = np.full(256, -1, dtype=np.int64)
    for char, value in table.items():
        values[ord(char)] = value
    return values


ID_WEIGHT_VECTOR = np.array(ID_WEIGHTS, dtype=np.int64)
ID_CHECK_CODES = np.frombuffer(ID_CHECK_CHARS.encode("ascii"), dtype=np.uint8)
USCC_VALUES = _lookup({c: i for i, c in enumerate(USCC_ALPHABET)})
BASE36_VALUES = _lookup({c: int(c, 36) for c in USCC_ALPHABET})
USCC_WEIGHT_VECTOR = np.array(USCC_WEIGHTS, dtype=np.int64)
ORG_CODE_WEIGHT_VECTOR = np.array(ORG_CODE_WEIGHTS, dtype=np.int64)
ORG_CHECK_CODES = np.frombuffer(b"?123456789X0", dtype=np.uint8)  # by 11 - sum % 11
# Luhn over 19 digits (shorter numbers are zero-padded on the left): every second digit from the
# right is doubled.
LUHN_DOUBLED = np.array([(18 - i) % 2 == 1 for i in range(19)])


def _id_check_ok(values: pl.Series) -> pl.Series:
    """The MOD 11-2 check character of each 18-character ID-shaped value is right."""
    shaped = values.str.contains(ID_SHAPE).fill_null(False)
    codes = _char_codes(values.str.to_uppercase(), shaped, 18)
    total = (codes[:, :17].astype(np.int64) - ord("0")) @ ID_WEIGHT_VECTOR
    return shaped & pl.Series(ID_CHECK_CODES[total % 11] == codes[:, 17])


def _uscc_check_ok(values: pl.Series) -> pl.Series:
    """The GB 11714 organization code check and the MOD 31 check character are right."""
    shaped = values.str.contains(USCC_SHAPE).fill_null(False)
    codes = _char_codes(values, shaped, 18)
    digits = USCC_VALUES[codes]
    total = digits[:, :17] @ USCC_WEIGHT_VECTOR
    org = BASE36_VALUES[codes[:, 8:16]] @ ORG_CODE_WEIGHT_VECTOR
    ok = ((31 - total % 31) % 31 == digits[:, 17]) & (
        ORG_CHECK_CODES[11 - org % 11] == codes[:, 16]
    )
    return shaped & pl.Series(ok)


def _luhn_ok(digits: pl.Series) -> pl.Series:
    """Luhn over strings of 1 to 19 ASCII digits (``False`` for anything else)."""
    shaped = digits.str.contains("^[0-9]{1,19}$").fill_null(False)
    codes = _char_codes(digits.str.zfill(19), shaped, 19).astype(np.int64) - ord("0")
    doubled = codes * 2 - (codes >= 5) * 9
    total = np.where(LUHN_DOUBLED, doubled, codes).sum(axis=1)
    return shaped & pl.Series(total % 10 == 0)


def _kernel(function: Callable[[pl.Series], pl.Series]) -> Rule:
    """``function`` (whole column in, flags out) as an element-wise expression."""
    return lambda e: e.map_batches(function, return_dtype=pl.Boolean, is_elementwise=True)


def is_id_number(e: pl.Expr) -> pl.Expr:
    """GB 11643: shape, MOD 11-2 check character and a real birth date from 1900 to today."""
    return (_kernel(_id_check_ok)(e) & _born(e)).fill_null(False)


def _born(e: pl.Expr) -> pl.Expr:
    """Whether characters 7–14 are a birth date from 1900 to today."""
    born = e.str.slice(6, 8).str.to_date("%Y%m%d", strict=False)
    return born.is_between(dt.date(1900, 1, 1), dt.date.today()).fill_null(False)


def is_uscc(e: pl.Expr) -> pl.Expr:
    """GB 32100: shape, the GB 11714 organization code check and the MOD 31 check character.

    Seventeen digits with a birth date (and one more) are an ID number, maybe mistyped.
    """
    id_like = e.str.contains("^[0-9]{17}[0-9X]$") & _born(e)
    return (_kernel(_uscc_check_ok)(e) & ~id_like).fill_null(False)


def luhn_ok(digits: pl.Expr) -> pl.Expr:
    """Luhn over strings of up to 19 digits."""
    return _kernel(_luhn_ok)(digits)


def is_bank_card(e: pl.Expr) -> pl.Expr:
    """A known card scheme's prefix and length, Luhn, and not a valid ID number."""
    digits = e.str.replace_all("[ -]", "")
    return (digits.str.contains(CARD_SCHEME) & luhn_ok(digits) & ~is_id_number(digits)).fill_null(
        False
    )


def is_mobile(e: pl.Expr) -> pl.Expr:
    """A mainland mobile number written alone, with +86/0086, spaces or dashes."""
    national = e.str.replace_all("[^0-9]", "").str.slice(-11)
    return (
        e.str.contains(f"^{MOBILE}$")
        & ~national.str.slice(0, 3).is_in(list(UNALLOCATED_MOBILE_SEGMENTS))
    ).fill_null(False)


LANDLINE = landline(WORD_END)


def landline_national(e: pl.Expr) -> pl.Expr:
    """The national form of fixed-line numbers: their digits, with the area code's leading 0 in
    place of a +86 or 0086 prefix (see :func:`desensitize.checksums.landline_digits`)."""
    digits = e.str.replace_all("[^0-9]", "")
    start = e.str.strip_chars_start("(（ ")
    return (
        pl.when(start.str.starts_with("+86"))
        .then(pl.lit("0") + digits.str.slice(2))
        .when(start.str.starts_with("0086"))
        .then(pl.lit("0") + digits.str.slice(4))
        .otherwise(digits)
    )


def is_landline(e: pl.Expr) -> pl.Expr:
    """A fixed-line number with its area code set apart: 010 and 02X with 8 local digits, the
    other areas with 7 or 8 (see :func:`desensitize.checksums.is_valid_landline`)."""
    national = landline_national(e)
    n = national.str.len_chars()
    length_ok = (
        pl.when(national.str.contains("^0(?:10|2)"))
        .then(n == 11)
        .otherwise(national.str.contains("^0[3-9]") & n.is_in([11, 12]))
    )
    return (e.str.contains(f"^{LANDLINE}$") & length_ok).fill_null(False)


def is_passport(e: pl.Expr) -> pl.Expr:
    return e.str.contains(PASSPORT).fill_null(False)


def is_hkmo_permit(e: pl.Expr) -> pl.Expr:
    return e.str.contains(HKMO_PERMIT).fill_null(False)


def is_plate(e: pl.Expr) -> pl.Expr:
    """Ordinary plates need two digits among their five characters; new-energy ones have six."""
    body = e.str.slice(2).str.strip_chars_start("·•・. -")
    return (
        e.str.contains(PLATE_SHAPE)
        & ((body.str.len_chars() == 6) | (body.str.count_matches("[0-9]") >= 2))
    ).fill_null(False)


def is_email(e: pl.Expr) -> pl.Expr:
    local = e.str.extract("^(.*)@", 1)
    return (
        e.str.contains(f"^{EMAIL}$") & ~e.str.contains(r"\.\.") & (local.str.len_chars() <= 64)
    ).fill_null(False)


def is_address(e: pl.Expr) -> pl.Expr:
    return e.str.contains(f"^{ADDRESS}$").fill_null(False)


def is_person_name(e: pl.Expr) -> pl.Expr:
    """A cell holding only a name: a common surname and one or two characters (not a place)."""
    return (
        e.str.contains(rf"^{NAME}$") & ~e.is_in(list(NOT_NAMES)) & ~e.str.contains(PLACE_END)
    ).fill_null(False)


# Whole-cell rules by entity, in the order in which a value is tried.
CELL_RULES: dict[str, Rule] = {
    "CN_ID_CARD": is_id_number,
    "CN_USCC": is_uscc,
    "CN_BANK_CARD": is_bank_card,
    "CN_MOBILE": is_mobile,
    "PHONE_NUMBER": is_landline,
    "CN_PASSPORT": is_passport,
    "CN_HKMO_PERMIT": is_hkmo_permit,
    "CN_LICENSE_PLATE": is_plate,
    "EMAIL_ADDRESS": is_email,
    "ADDRESS": is_address,
    "PERSON": is_person_name,
}


def cell_is(entity: str, e: pl.Expr) -> pl.Expr:
    """Whether each (stripped) cell of ``e`` is a ``entity``."""
    return CELL_RULES[entity](e.cast(pl.String).str.strip_chars())


# ---- free text -------------------------------------------------------------------------------

# The text is cut into pieces that cover it: e-mails, written phone numbers, grouped card numbers,
# plates, alphanumeric runs, and the rest. Each piece is then judged whole.
PIECES = "(?s)" + "|".join(
    (
        f"{EMAIL}{WORD_END}",
        MOBILE,
        f"{LANDLINE}{WORD_END}",
        f"{SPACED_CARD}{WORD_END}",
        f"{PLATE}{WORD_END}",
        "[0-9A-Za-z_]+",
        f"[^0-9A-Za-z_+(（{PLATE_PROVINCES}]+",
        ".",
    )
)
# Each piece is tried as these, in order (the order of the fast text scanner); the first pattern is
# a cheap necessary condition that picks the pieces worth the full rule.
PIECE_RULES: tuple[tuple[str, str, Rule], ...] = (
    ("EMAIL_ADDRESS", "@", is_email),
    ("CN_ID_CARD", ID_SHAPE, is_id_number),
    ("CN_USCC", USCC_SHAPE, is_uscc),
    ("CN_BANK_CARD", "^[2-69][0-9 -]{12,22}$", is_bank_card),
    ("CN_MOBILE", "^[+0-9][0-9 -]{10,18}$", is_mobile),
    ("PHONE_NUMBER", "^[+0(（]", is_landline),
    ("CN_PASSPORT", PASSPORT, is_passport),
    ("CN_HKMO_PERMIT", HKMO_PERMIT, is_hkmo_permit),
    ("CN_LICENSE_PLATE", f"^[{PLATE_PROVINCES}]", is_plate),
)


def _alternatives(words: tuple[str, ...]) -> str:
    escaped = sorted(words, key=len, reverse=True)
    return "|".join(pl.escape_regex(w) for w in escaped)


NAME_IN_TEXT = (
    rf"(?m)(^|[^\p{{Han}}]|{_alternatives(NAME_TRIGGERS)})"
    rf"({SURNAME}{GIVEN})"
    rf"({_alternatives(NAME_STOPS)}|[^\p{{Han}}]|$)"
)
# While names are replaced, the first character of each common word that begins with a surname
# (金额, 单元) is hidden behind a rare Chinese character: no name can start there, the word's
# other characters still serve as context, and to the name rule the text still reads as Chinese.
# A found name is marked by another rare character.
HIDDEN_FIRSTS = [chr(0x3400 + i) for i in range(len(NOT_NAMES))]
HIDDEN_WORDS = [h + w[1:] for h, w in zip(HIDDEN_FIRSTS, NOT_NAMES, strict=True)]
NAME_MARK = "\u4db5"
BOTH_SIDES = [w for w in NAME_STOPS if w in NAME_TRIGGERS]
NAME_AFTER_NAME = (
    f"{NAME_MARK}(?:[^\\p{{Han}}]|{_alternatives(tuple(BOTH_SIDES))})"
    f"(?:{_alternatives(tuple(DOUBLE_SURNAMES))}|[{SINGLE_SURNAMES}])"
)


# Only pieces like these can be identifiers; the others are left as they are without a look.
CANDIDATE_PIECE = f"^(?:[0-9A-Za-z_+.@%·()（） -]{{6,}}|[{PLATE_PROVINCES}][A-HJ-NP-Z].{{5,}})$"


def judge_pieces(pieces: pl.Series) -> pl.Series:
    """``<ENTITY_TYPE>`` for each piece that is an identifier, else the piece itself."""
    candidate = pieces.str.contains(CANDIDATE_PIECE).fill_null(False)
    frame = pl.DataFrame({"piece": pieces.filter(candidate), "at": candidate.arg_true()})
    judged = pieces.clone()
    for entity, shape, rule in PIECE_RULES:
        shaped = frame.filter(pl.col("piece").str.contains(shape))
        if shaped.is_empty():
            continue
        hit = shaped.select(rule(pl.col("piece"))).to_series()
        found = shaped["at"].filter(hit)
        judged = judged.scatter(found, f"<{entity}>")
        frame = frame.filter(~pl.col("at").is_in(found.implode()))
    return judged


def redact_identifiers(text: pl.Series) -> pl.Series:
    """Replace identifiers with check digits or a fixed shape inside free text.

    Each text is cut into pieces; the pieces of all texts are judged at once (``list.eval`` hands
    an element-wise function the flat column) and joined again.
    """
    judged = pl.element().map_batches(judge_pieces, return_dtype=pl.String, is_elementwise=True)
    return (
        text.to_frame()
        .select(pl.first().str.extract_all(PIECES).list.eval(judged).list.join(""))
        .to_series()
        .alias(text.name)
    )


def redact_names(text: pl.Series) -> pl.Series:
    """Replace person names (surname, context before and after) inside free text."""
    hidden = text.str.replace_many(list(NOT_NAMES), HIDDEN_WORDS)
    hidden = hidden.str.replace_all(NAME_IN_TEXT, "${1}" + NAME_MARK + "${3}")
    # A name right after another one lost its context to the first match: a second pass, only
    # where a found name is followed by what may also come before a name, then a surname.
    again = hidden.str.contains(NAME_AFTER_NAME).fill_null(False)
    if again.any():
        second = hidden.filter(again).str.replace_all(NAME_IN_TEXT, "${1}" + NAME_MARK + "${3}")
        hidden = hidden.scatter(again.arg_true(), second)
    firsts = [w[0] for w in NOT_NAMES]
    return hidden.str.replace_many([*HIDDEN_FIRSTS, NAME_MARK], [*firsts, "<PERSON>"])


def redact_series(text: pl.Series, *, names: bool = True) -> pl.Series:
    """Every entity inside each free-text cell replaced by ``<ENTITY_TYPE>``."""
    if text.len() == 0:
        return text.cast(pl.String)
    redacted = redact_identifiers(text.cast(pl.String).str.replace_all(ADDRESS, "<ADDRESS>"))
    return redact_names(redacted) if names else redacted


PARALLEL_ROWS = 4_000


def redact_parallel(text: pl.Series) -> pl.Series:
    """:func:`redact_series` on the two halves of a long column at once (polars releases the
    GIL, so the halves use two cores)."""
    if text.len() < PARALLEL_ROWS:
        return redact_series(text)
    half = text.len() // 2
    with ThreadPoolExecutor(max_workers=2) as pool:
        parts = list(pool.map(redact_series, (text.slice(0, half), text.slice(half))))
    return pl.concat(parts)


def redact_columns(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """``frame`` with the free text of ``columns`` redacted (for ``LazyFrame.map_batches``)."""
    return frame.with_columns(redact_parallel(frame.get_column(c)) for c in columns)
