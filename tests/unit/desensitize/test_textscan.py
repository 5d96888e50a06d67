"""The fast text scanner and the vectorised redaction against Presidio's analyzer running the
same recognizers: the same findings, on generated notes and on hand-written ones."""

from __future__ import annotations

import random

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desensitize import synthetic, vectorized
from desensitize.engine import presidio_find
from desensitize.exceptions import UnsupportedLanguageError
from desensitize.findings import replace_findings
from desensitize.textscan import find_entities, redact_text, rule_entities


def rules_redact(text: str) -> str:
    """The scanner's redaction by the rules alone: what the vectorised rules must equal."""
    return replace_findings(text, rule_entities(text))


HAND_WRITTEN = [
    "市民王小明（身份证11010519491231002x）来电，手机+86 138-1234-5678。",
    "张三、李四和王五反映浙江省杭州市西湖区文三路100号噪音扰民",
    "退款请转至银行卡6225 8889 3485 8137 288，订单号207167928093392155，金额12,345.67元",
    "邮件 zhang.san@example.com 或 li_si@163.com；车牌沪A·D1234？不，是浙AD12345",
    "经诸葛亮核实，统一社会信用代码91350100M000100Y43",
    "Contact E12345678 / C12345678 / H1234567801 today",
    "",
    "没有任何个人信息的一句话。",
]


@pytest.mark.parametrize("text", HAND_WRITTEN)
def test_scanner_agrees_with_presidio(text: str) -> None:
    assert find_entities(text) == presidio_find(text)


@settings(max_examples=30, deadline=None)
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_scanner_agrees_with_presidio_on_generated_notes(seed: int) -> None:
    note = synthetic.hotline_complaint(random.Random(seed))
    assert find_entities(note) == presidio_find(note)


@settings(max_examples=30, deadline=None)
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_every_generated_entity_is_redacted(seed: int) -> None:
    note = synthetic.hotline_complaint_note(random.Random(seed))
    redacted = redact_text(note.text)
    for entity, text in note.entities:
        assert text not in redacted, (entity, text)
        assert f"<{entity}>" in redacted


def test_look_alikes_stay() -> None:
    text = "订单号207167928093392155，金额624,307.13元，错号110105194912310021"
    assert redact_text(text) == text


def test_redaction_keeps_the_rest_of_the_text() -> None:
    assert redact_text("市民王小明来电反映噪音") == "市民<PERSON>来电反映噪音"
    assert redact_text("电话13812345678，谢谢") == "电话<CN_MOBILE>，谢谢"


def test_vectorised_redaction_equals_the_scanner() -> None:
    rng = random.Random(8)
    texts = HAND_WRITTEN + [synthetic.hotline_complaint(rng) for _ in range(300)]
    fast = vectorized.redact_series(pl.Series([*texts, None])).to_list()
    assert fast == [*(rules_redact(t) for t in texts), None]


def test_english_has_no_chinese_name_rule() -> None:
    assert redact_text("王小明，", lang="en") == "王小明，"
    assert redact_text("mail me: a@b.org", lang="en") == "mail me: <EMAIL_ADDRESS>"


def test_unknown_language() -> None:
    with pytest.raises(UnsupportedLanguageError, match="fr"):
        find_entities("x", lang="fr")


CONTEXTS = ("身份证号{}，", "卡号：{}。", "{}", "联系 {} 谢谢", "（{}）")
GENERATORS = {
    "CN_ID_CARD": (synthetic.valid_id_number, synthetic.invalid_id_number),
    "CN_USCC": (synthetic.valid_uscc, synthetic.invalid_uscc),
    "CN_BANK_CARD": (synthetic.valid_bank_card, synthetic.invalid_bank_card),
}


@settings(deadline=None)
@given(
    st.integers(min_value=0, max_value=2**32 - 1),
    st.sampled_from(sorted(GENERATORS)),
    st.sampled_from(CONTEXTS),
)
def test_valid_identifiers_are_found_and_mutated_ones_never(
    seed: int, entity: str, context: str
) -> None:
    rng = random.Random(seed)
    valid, mutated = GENERATORS[entity]
    good, bad = valid(rng), mutated(rng)
    assert [(f.entity, f.text) for f in find_entities(context.format(good))] == [(entity, good)]
    assert [f for f in find_entities(context.format(bad)) if f.entity == entity] == []
    assert presidio_find(context.format(good))[0].text == good


@settings(deadline=None)
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_written_mobiles_and_plates_are_found(seed: int) -> None:
    rng = random.Random(seed)
    mobile, car = synthetic.formatted_mobile(rng), synthetic.plate(rng)
    text = f"电话{mobile}，车牌{car}。"
    assert [(f.entity, f.text) for f in find_entities(text)] == [
        ("CN_MOBILE", mobile),
        ("CN_LICENSE_PLATE", car),
    ]


@settings(deadline=None, max_examples=50)
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_written_fixed_line_numbers_are_found_by_both_scanners(seed: int) -> None:
    rng = random.Random(seed)
    number = synthetic.landline(rng)
    text = f"座机{number}，订单号{synthetic.order_number(rng)}。"
    assert [(f.entity, f.text) for f in find_entities(text)] == [("PHONE_NUMBER", number)]
    assert find_entities(text) == presidio_find(text)
    assert vectorized.redact_series(pl.Series([text])).item() == rules_redact(text)


@settings(deadline=None)
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_generated_addresses_generalize_to_their_district(seed: int) -> None:
    from desensitize.transforms import address_to_district

    rng = random.Random(seed)
    addresses = [synthetic.address(rng) for _ in range(20)]
    frame = pl.LazyFrame({"a": addresses})
    districts = address_to_district(frame, "a").collect().get_column("a").to_list()
    for address, district in zip(addresses, districts, strict=True):
        assert district is not None and district.endswith(synthetic.district_of(address))
        assert address.startswith(district)


def test_long_columns_are_redacted_in_halves_with_the_same_result() -> None:
    rng = random.Random(12)
    texts = pl.Series([synthetic.hotline_complaint(rng) for _ in range(vectorized.PARALLEL_ROWS)])
    assert vectorized.redact_parallel(texts).equals(vectorized.redact_series(texts))


def test_english_phone_numbers_with_presidios_recognizer() -> None:
    text = (
        "Call +1 212-555-0199 or (415) 555-2671, London 020 7946 0958; "
        "order 202311260001234567, amount 12,345.67, IP 10.1.2.3"
    )
    assert redact_text(text, lang="en") == (
        "Call <PHONE_NUMBER> or <PHONE_NUMBER>, London <PHONE_NUMBER>; "
        "order 202311260001234567, amount 12,345.67, IP <IP_ADDRESS>"
    )
    assert find_entities(text, lang="en") == presidio_find(text, lang="en")
