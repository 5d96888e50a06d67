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


def is_valid_bank_card(number: str) -> bool:
    """A 13–19 digit card number passing Luhn that is not also a valid resident ID number."""
    if not 13 <= len(number) <= 19 or number[0] not in "3456789":
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


def is_valid_uscc(code: str) -> bool:
    """True for an 18-character unified social credit code with a right MOD 31 check character."""
    code = code.upper()
    if len(code) != 18 or any(c not in USCC_ALPHABET for c in code):
        return False
    if not code[2:8].isdigit():
        return False
    return uscc_check_char(code[:17]) == code[17]
