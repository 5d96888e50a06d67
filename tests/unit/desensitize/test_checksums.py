"""Check digits: literal rules, generated identifiers, mutated check digits, and the vectorised
polars rules held to the literal ones."""

from __future__ import annotations

import random

import polars as pl
import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from desensitize import checksums, synthetic, vectorized
from desensitize.recognizers.cn.landline import landline

seeds = st.integers(min_value=0, max_value=2**32 - 1)


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("11010519491231002X", True),
        ("11010519491231002x", True),  # lowercase check character
        ("110105194912310021", False),  # wrong check character
        ("11010519491332002X", False),  # no 13th month
        ("11010518991231002X", False),  # before 1900
        ("01010519491231002X", False),  # no area code starts with 0
        ("1101051949123100", False),  # too short
        ("11010519491231002Y", False),
    ],
)
def test_id_numbers(number: str, valid: bool) -> None:
    assert checksums.is_valid_id_number(number) is valid


@pytest.mark.parametrize(
    ("code", "valid"),
    [
        ("91350100M000100Y43", True),
        ("91350100M000100Y44", False),
        ("9135010OM000100Y43", False),  # O is not in the alphabet
        ("91350100m000100Y43", False),  # lower case
        ("01350100M000100Y43", False),  # no registration authority 0
    ],
)
def test_unified_social_credit_codes(code: str, valid: bool) -> None:
    assert checksums.is_valid_uscc(code) is valid


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("6222021234567890128", True),
        ("6222021234567890129", False),
        ("4111111111111111", True),  # Visa test number
        ("4111111111111112", False),
        ("6225888934858137288", True),
        ("1234567812345670", False),  # Luhn-valid but no card scheme
        ("11010519491231002X", False),
    ],
)
def test_bank_cards(number: str, valid: bool) -> None:
    assert checksums.is_valid_bank_card(number) is valid


def test_a_valid_id_number_passing_luhn_is_no_bank_card() -> None:
    rng = random.Random(3)
    both = [n for n in (synthetic.valid_id_number(rng) for _ in range(3000)) if n.isdigit()]
    luhn = [n for n in both if checksums.is_luhn_valid(n)]
    assert luhn, "some ID numbers pass Luhn"
    assert not any(checksums.is_valid_bank_card(n) for n in luhn)


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("13812345678", True),
        ("+86 138 1234 5678", True),
        ("+86-13812345678", True),
        ("008613812345678", True),
        ("138-1234-5678", True),
        ("12812345678", False),
        ("14012345678", False),  # unallocated segment
        ("1381234567", False),
    ],
)
def test_mobiles(text: str, valid: bool) -> None:
    assert checksums.is_valid_mobile(text) is valid


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("0571-87654321", True),
        ("0571-8765432", True),
        ("(0571)87654321", True),
        ("+86 571 8765 4321", True),
        ("0086-21-62345678", True),
        ("010-62345678", True),
        ("010-6234567", False),  # Beijing numbers have 8 digits
        ("020-623456789", False),
        ("0123-6234567", False),  # no area code starts 01 but Beijing's
    ],
)
def test_fixed_lines(text: str, valid: bool) -> None:
    assert checksums.is_valid_landline(text) is valid


@settings(deadline=None)
@given(st.text(alphabet="0123456789()（）+ -", min_size=8, max_size=20))
def test_vectorised_fixed_line_rule_on_any_text(text: str) -> None:
    shaped = regex.fullmatch(landline(""), text.strip()) is not None
    rule = vectorized.cell_is("PHONE_NUMBER", pl.col("v"))
    fast = pl.DataFrame({"v": [text]}).select(rule).item()
    assert fast == (shaped and checksums.is_valid_landline(text.strip()))


@settings(deadline=None)
@given(seeds)
def test_generated_identifiers_are_valid(seed: int) -> None:
    rng = random.Random(seed)
    assert checksums.is_valid_id_number(synthetic.valid_id_number(rng))
    assert checksums.is_valid_uscc(synthetic.valid_uscc(rng))
    assert checksums.is_valid_bank_card(synthetic.valid_bank_card(rng))
    assert checksums.is_valid_mobile(synthetic.valid_mobile(rng))


@settings(deadline=None)
@given(seeds)
def test_mutated_check_digits_are_never_valid(seed: int) -> None:
    rng = random.Random(seed)
    assert not checksums.is_valid_id_number(synthetic.invalid_id_number(rng))
    assert not checksums.is_valid_uscc(synthetic.invalid_uscc(rng))
    assert not checksums.is_luhn_valid(synthetic.invalid_bank_card(rng))
    # a mistyped ID number is not taken for another identifier either
    wrong = synthetic.invalid_id_number(rng)
    assert not checksums.is_valid_uscc(wrong)
    assert not checksums.is_valid_bank_card(wrong)


def _values(seed: int, n: int = 60) -> list[str]:
    rng = random.Random(seed)
    makers = [
        synthetic.valid_id_number,
        synthetic.invalid_id_number,
        synthetic.valid_uscc,
        synthetic.invalid_uscc,
        synthetic.valid_bank_card,
        synthetic.invalid_bank_card,
        synthetic.formatted_mobile,
        synthetic.order_number,
        synthetic.plate,
        synthetic.passport,
        synthetic.hkmo_permit,
        synthetic.email,
    ]
    return [rng.choice(makers)(rng) for _ in range(n)]


LITERAL = {
    "CN_ID_CARD": checksums.is_valid_id_number,
    "CN_USCC": checksums.is_valid_uscc,
    "CN_BANK_CARD": lambda v: checksums.is_valid_bank_card(v.replace(" ", "").replace("-", "")),
    "CN_MOBILE": checksums.is_valid_mobile,
}


@settings(max_examples=25, deadline=None)
@given(seeds)
def test_vectorised_rules_agree_with_the_literal_ones(seed: int) -> None:
    values = _values(seed)
    frame = pl.DataFrame({"v": values})
    for entity, literal in LITERAL.items():
        fast = frame.select(vectorized.cell_is(entity, pl.col("v"))).to_series().to_list()
        slow = [literal(v) and (entity != "CN_MOBILE" or v[0] in "+01") for v in values]
        assert fast == slow, entity


@settings(deadline=None)
@given(st.text(alphabet="0123456789Xx", min_size=17, max_size=19))
def test_vectorised_id_rule_on_any_digit_string(text: str) -> None:
    fast = pl.DataFrame({"v": [text]}).select(vectorized.cell_is("CN_ID_CARD", pl.col("v"))).item()
    assert fast == checksums.is_valid_id_number(text)


@settings(deadline=None)
@given(st.text(alphabet="0123456789", min_size=13, max_size=19))
def test_vectorised_card_rule_on_any_digit_string(text: str) -> None:
    rule = vectorized.cell_is("CN_BANK_CARD", pl.col("v"))
    assert pl.DataFrame({"v": [text]}).select(rule).item() == checksums.is_valid_bank_card(text)
