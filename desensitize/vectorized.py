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
    PLATE_PROVINCES,
    SINGLE_SURNAMES,
)
from desensitize.recognizers.cn.address import ADDRESS
from desensitize.recognizers.cn.bank_card import SPACED_CARD
from desensitize.recognizers.cn.license_plate import PLATE
from desensitize.recognizers.cn.mobile import MOBILE_BODY
from desensitize.recognizers.cn.person_name import NAME, SURNAME
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
PLACE_END = "[省市区县镇乡村路街道巷]$"
USCC_SHAPE = r"^[1-9ANY][1-9][0-9]{6}[0-9A-HJ-NP-RTUW-Y]{10}$"
ID_SHAPE = r"^[1-9][0-9]{16}[0-9Xx]$"
PASSPORT = r"^(?:E[0-9]{8}|E[A-HJ-NP-Z][0-9]{7}|G[0-9]{8})$"
HKMO_PERMIT = r"^(?:C[0-9]{8}|C[A-HJ-NP-Z][0-9]{7}|[HM][0-9]{8}(?:[0-9]{2})?)$"
PLATE_SHAPE = (
    f"^[{PLATE_PROVINCES}][A-HJ-NP-Z][·•・. -]?"
    "(?:[DF][A-HJ-NP-Z0-9][0-9]{4}|[0-9]{5}[DF]|[A-HJ-NP-Z0-9]{5})$"
)


def _digits_of(number: pl.Expr, count: int) -> list[pl.Expr]:
    """The ``count`` decimal digits of an integer column, most significant first."""
    return [(number // 10 ** (count - 1 - i)) % 10 for i in range(count)]


def is_id_number(e: pl.Expr) -> pl.Expr:
    """GB 11643: shape, MOD 11-2 check character and a real birth date from 1900 to today."""
    shaped = e.str.contains(ID_SHAPE)
    first17 = e.str.slice(0, 17).cast(pl.UInt64, strict=False)
    total = pl.sum_horizontal(
        d * w for d, w in zip(_digits_of(first17, 17), ID_WEIGHTS, strict=True)
    )
    expected = (total % 11).replace_strict(dict(enumerate(ID_CHECK_CHARS)), return_dtype=pl.String)
    return (
        shaped
        & (e.str.slice(17, 1).str.to_uppercase() == expected)
        & _born(pl.when(shaped).then(e))
    ).fill_null(False)


def _born(e: pl.Expr) -> pl.Expr:
    """Whether characters 7–14 are a birth date from 1900 to today."""
    born = e.str.slice(6, 8).str.to_date("%Y%m%d", strict=False)
    return born.is_between(dt.date(1900, 1, 1), dt.date.today()).fill_null(False)


def is_uscc(e: pl.Expr) -> pl.Expr:
    """GB 32100: shape, the GB 11714 organization code check and the MOD 31 check character.

    Seventeen digits with a birth date (and one more) are an ID number, maybe mistyped.
    """
    values = {c: i for i, c in enumerate(USCC_ALPHABET)}
    base36 = {c: int(c, 36) for c in USCC_ALPHABET}
    shaped = e.str.contains(USCC_SHAPE)
    code = e

    def value(i: int, table: dict[str, int]) -> pl.Expr:
        return code.str.slice(i, 1).replace_strict(table, default=None, return_dtype=pl.Int32)

    total = pl.sum_horizontal(value(i, values) * w for i, w in enumerate(USCC_WEIGHTS))
    org = pl.sum_horizontal(value(8 + i, base36) * w for i, w in enumerate(ORG_CODE_WEIGHTS))
    org_check = (11 - org % 11).replace_strict(
        {**{i: str(i) for i in range(1, 10)}, 10: "X", 11: "0"}, return_dtype=pl.String
    )
    id_like = code.str.contains("^[0-9]{17}[0-9X]$") & _born(code)
    return (
        shaped
        & ((31 - total % 31) % 31 == value(17, values))
        & (code.str.slice(16, 1) == org_check)
        & ~id_like
    ).fill_null(False)


def luhn_ok(digits: pl.Expr) -> pl.Expr:
    """Luhn over strings of up to 19 digits (as an unsigned 64-bit number)."""
    number = digits.cast(pl.UInt64, strict=False)
    terms = []
    for i, d in enumerate(reversed(_digits_of(number, 19))):
        terms.append(d if i % 2 == 0 else d * 2 - (d >= 5).cast(pl.UInt64) * 9)
    return pl.sum_horizontal(terms) % 10 == 0


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
        f"{SPACED_CARD}{WORD_END}",
        f"{PLATE}{WORD_END}",
        "[0-9A-Za-z_]+",
        f"[^0-9A-Za-z_+{PLATE_PROVINCES}]+",
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
    ("CN_PASSPORT", PASSPORT, is_passport),
    ("CN_HKMO_PERMIT", HKMO_PERMIT, is_hkmo_permit),
    ("CN_LICENSE_PLATE", f"^[{PLATE_PROVINCES}]", is_plate),
)


def _alternatives(words: tuple[str, ...]) -> str:
    escaped = sorted(words, key=len, reverse=True)
    return "|".join(pl.escape_regex(w) for w in escaped)


NAME_IN_TEXT = (
    rf"(?m)(^|[^\p{{Han}}]|{_alternatives(NAME_TRIGGERS)})"
    rf"({SURNAME}\p{{Han}}{{1,2}}?)"
    rf"({_alternatives(NAME_STOPS)}|[^\p{{Han}}]|$)"
)
# While names are replaced, common words that begin with a surname are hidden behind rare Chinese
# characters, and a found name is marked by one: to the name rule they still read as Chinese text.
HIDDEN_WORDS = [chr(0x3400 + i) for i in range(len(NOT_NAMES))]
NAME_MARK = "\u4db5"
BOTH_SIDES = [w for w in NAME_STOPS if w in NAME_TRIGGERS]
NAME_AFTER_NAME = (
    f"{NAME_MARK}(?:[^\\p{{Han}}]|{_alternatives(tuple(BOTH_SIDES))})"
    f"(?:{_alternatives(tuple(DOUBLE_SURNAMES))}|[{SINGLE_SURNAMES}])"
)


# Only pieces like these can be identifiers; the others are left as they are without a look.
CANDIDATE_PIECE = f"^(?:[0-9A-Za-z_+.@%· -]{{6,}}|[{PLATE_PROVINCES}][A-HJ-NP-Z].{{5,}})$"


def judge_pieces(pieces: pl.Series) -> pl.Series:
    """``<ENTITY_TYPE>`` for each piece that is an identifier, else the piece itself."""
    frame = pl.DataFrame({"piece": pieces}).with_row_index("at")
    judged = pieces.clone()
    for entity, shape, rule in PIECE_RULES:
        shaped = frame.filter(pl.col("piece").str.contains(shape))
        if shaped.is_empty():
            continue
        hit = shaped.lazy().select(rule(pl.col("piece"))).collect().to_series()
        found = shaped["at"].filter(hit)
        judged = judged.scatter(found, f"<{entity}>")
        frame = frame.filter(~pl.col("at").is_in(found.implode()))
    return judged


def redact_identifiers(text: pl.Series) -> pl.Series:
    """Replace identifiers with check digits or a fixed shape inside free text."""
    pieces = (
        pl.DataFrame({"piece": text.str.extract_all(PIECES)})
        .with_row_index("row")
        .explode("piece")
        .with_row_index("at")
    )
    candidates = pieces.filter(pl.col("piece").str.contains(CANDIDATE_PIECE))
    judged = judge_pieces(candidates["piece"])
    rejoined = (
        pieces.select("row", pieces["piece"].scatter(candidates["at"], judged))
        .group_by("row", maintain_order=True)
        .agg(pl.col("piece").str.join(""))
    )
    # An empty text has no pieces and so no group: it stays as it was.
    every_row = pl.DataFrame({"row": pl.arange(0, text.len(), dtype=pl.UInt32, eager=True)})
    redacted = every_row.join(rejoined, on="row", how="left", maintain_order="left")["piece"]
    keep = redacted.is_not_null() & text.is_not_null()
    return redacted.zip_with(keep, text).alias(text.name)


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
    return hidden.str.replace_many([*HIDDEN_WORDS, NAME_MARK], [*NOT_NAMES, "<PERSON>"])


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
