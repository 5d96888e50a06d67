"""Check digits of Chinese identifiers: the literal reference for the vectorised rules.

- resident ID number: GB 11643-1999, ISO 7064 MOD 11-2, with a real calendar date;
- bank card: Luhn (ISO/IEC 7812);
- unified social credit code: GB 32100-2015, MOD 31 over its 31-character alphabet.
"""

from __future__ import annotations

import datetime as dt

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
ID_EARLIEST_YEAR = 1900

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def id_check_char(first17: str) -> str:
    """The 18th character of a resident ID number whose first 17 digits are given."""
    total = sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


def id_birth_date(number: str) -> dt.date | None:
    """The birth date encoded in an 18-digit ID number, or ``None`` if it is no real date."""
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None
    if born.year < ID_EARLIEST_YEAR or born > dt.date.today():
        return None
    return born


def is_valid_id_number(number: str) -> bool:
    """True for an 18-character resident ID number with a right check character and a real date."""
    if len(number) != 18 or not number[:17].isdigit() or not number[:17].isascii():
        return False
    if number[0] == "0" or id_birth_date(number) is None:
        return False
    return id_check_char(number[:17]) == number[17].upper()


def luhn_check_digit(payload: str) -> str:
    """The Luhn check digit to append to ``payload``."""
    total = 0
    for i, c in enumerate(reversed(payload)):
        d = int(c)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def is_luhn_valid(number: str) -> bool:
    """True when the digits of ``number`` pass the Luhn check."""
    if not number.isdigit() or not number.isascii() or len(number) < 2:
        return False
    return luhn_check_digit(number[:-1]) == number[-1]


# Issuer prefixes and lengths of the card schemes used in China (UnionPay 62, Visa, Mastercard,
# American Express, JCB, Discover, and the 19-digit 9xx domestic cards of the older banks).
CARD_SCHEMES: tuple[tuple[tuple[str, ...], tuple[int, ...]], ...] = (
    (("62", "60", "65"), (16, 19)),
    (("4",), (13, 16, 19)),
    (("51", "52", "53", "54", "55", "22", "23", "24", "25", "26", "27"), (16,)),
    (("34", "37"), (15,)),
    (("35",), (16,)),
    (("9", "68"), (19,)),
)


def has_card_scheme(number: str) -> bool:
    """True when the prefix and length of ``number`` fit a payment card scheme."""
    return any(
        number.startswith(prefixes) and len(number) in lengths for prefixes, lengths in CARD_SCHEMES
    )


def is_valid_bank_card(number: str) -> bool:
    """A card number of a known scheme passing Luhn that is not also a valid resident ID number."""
    if not has_card_scheme(number):
        return False
    return is_luhn_valid(number) and not is_valid_id_number(number)


def org_code_check_char(first8: str) -> str:
    """The check character of a GB 11714 organization code (positions 9–17 of a USCC)."""
    total = sum(int(c, 36) * w for c, w in zip(first8, ORG_CODE_WEIGHTS, strict=True))
    r = 11 - total % 11
    return "X" if r == 10 else "0" if r == 11 else str(r)


def uscc_check_char(first17: str) -> str:
    """The 18th character of a unified social credit code (GB 32100, MOD 31)."""
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


USCC_AUTHORITIES = "123456789ANY"


def is_valid_uscc(code: str) -> bool:
    """True for an 18-character unified social credit code whose check characters are right: the
    GB 11714 organization code inside it (positions 9–17) and the MOD 31 one at the end.

    Seventeen digits that carry a real birth date read as a resident ID number (maybe mistyped),
    never as a USCC.
    """
    if len(code) != 18 or any(c not in USCC_ALPHABET for c in code):
        return False
    if code[0] not in USCC_AUTHORITIES or code[1] == "0" or not code[2:8].isdigit():
        return False
    if code[:17].isdigit() and id_birth_date(code) is not None:
        return False
    return org_code_check_char(code[8:16]) == code[16] and uscc_check_char(code[:17]) == code[17]


# Number segments of mainland mobile networks that are not allocated to phones.
UNALLOCATED_MOBILE_SEGMENTS = frozenset(
    {"140", "141", "142", "143", "144", "154", "160", "161", "163", "164", "168", "169", "179"}
)


def mobile_digits(text: str) -> str:
    """The national digits of a written mobile number: ``+86 138-1234-5678`` → ``13812345678``."""
    digits = "".join(c for c in text if c.isdigit())
    if len(digits) == 15 and digits.startswith("0086"):
        return digits[4:]
    if len(digits) == 13 and digits.startswith("86"):
        return digits[2:]
    return digits


def is_valid_mobile(text: str) -> bool:
    """True for a mainland mobile number, bare or with +86/0086 and spaces or dashes."""
    digits = mobile_digits(text)
    return (
        len(digits) == 11
        and digits.isascii()
        and digits[0] == "1"
        and digits[1] in "3456789"
        and digits[:3] not in UNALLOCATED_MOBILE_SEGMENTS
    )


def landline_digits(text: str) -> str:
    """The national form of a fixed-line number: its digits, with the leading 0 of the area code
    in place of a +86 or 0086 prefix."""
    digits = "".join(c for c in text if c.isdigit())
    stripped = text.lstrip("(（ ")
    if stripped.startswith("+86"):
        return "0" + digits[2:]
    if stripped.startswith("0086"):
        return "0" + digits[4:]
    return digits


def is_valid_landline(text: str) -> bool:
    """True for a mainland fixed-line number: 010 and 02X with 8 local digits, the other area
    codes (four digits with the 0) with 7 or 8."""
    digits = landline_digits(text)
    if not digits.isascii() or not digits.startswith("0"):
        return False
    if digits.startswith(("010", "02")):
        return len(digits) == 11
    if digits.startswith(("00", "01")):
        return False
    return len(digits) in (11, 12)
