"""Each recognizer through Presidio's own analyzer (offline): valid rows found with their exact
span, invalid rows not found. Real-world variants included."""

from __future__ import annotations

import pytest

from desensitize.engine import analyzer, presidio_find
from desensitize.recognizers import recognizers_for


def found(text: str, entity: str, lang: str = "zh") -> list[str]:
    results = analyzer().analyze(text, language=lang, entities=[entity])
    return [text[r.start : r.end] for r in results if r.entity_type == entity]


CASES: list[tuple[str, str, list[str]]] = [
    # resident ID numbers
    ("CN_ID_CARD", "身份证号11010519491231002X，", ["11010519491231002X"]),
    ("CN_ID_CARD", "证件号码：11010519491231002x", ["11010519491231002x"]),
    ("CN_ID_CARD", "身份证号110105194912310021", []),  # wrong check character
    ("CN_ID_CARD", "单号A11010519491231002X", []),  # inside a longer token
    ("CN_ID_CARD", "订单号811010519491231002X9", []),
    # mobiles
    ("CN_MOBILE", "电话13812345678请回电", ["13812345678"]),
    ("CN_MOBILE", "联系+86 138 1234 5678", ["+86 138 1234 5678"]),
    ("CN_MOBILE", "手机：138-1234-5678。", ["138-1234-5678"]),
    ("CN_MOBILE", "0086-13812345678", ["0086-13812345678"]),
    ("CN_MOBILE", "编号213812345678", []),
    ("CN_MOBILE", "号段14012345678", []),
    # fixed-line numbers: only with the area code set apart
    ("PHONE_NUMBER", "座机0571-87654321，", ["0571-87654321"]),
    ("PHONE_NUMBER", "电话（0571）8765432", ["（0571）8765432"]),
    ("PHONE_NUMBER", "总机010-62345678转8001", ["010-62345678"]),
    ("PHONE_NUMBER", "+86 21 6234 5678", ["+86 21 6234 5678"]),
    ("PHONE_NUMBER", "订单号057187654321", []),
    ("PHONE_NUMBER", "编号010-6234567", []),  # Beijing numbers have 8 digits
    ("PHONE_NUMBER", "区号0571-1234567", []),  # no local number starts with 1
    # bank cards
    ("CN_BANK_CARD", "退款至6225888934858137288。", ["6225888934858137288"]),
    ("CN_BANK_CARD", "卡号 4111 1111 1111 1111", ["4111 1111 1111 1111"]),
    ("CN_BANK_CARD", "卡号6225888934858137289", []),  # Luhn fails
    ("CN_BANK_CARD", "订单号207167928093392155", []),
    # unified social credit codes
    ("CN_USCC", "统一社会信用代码91350100M000100Y43", ["91350100M000100Y43"]),
    ("CN_USCC", "代码91350100M000100Y44", []),
    # plates
    ("CN_LICENSE_PLATE", "车牌浙A·12345停在", ["浙A·12345"]),
    ("CN_LICENSE_PLATE", "车牌浙A12345停在", ["浙A12345"]),
    ("CN_LICENSE_PLATE", "新能源粤BD12345", ["粤BD12345"]),
    ("CN_LICENSE_PLATE", "沪A12345D号", ["沪A12345D"]),
    ("CN_LICENSE_PLATE", "型号浙ABCDEF", []),  # no digits
    ("CN_LICENSE_PLATE", "浙a12345", []),  # lower case
    # passports and travel permits
    ("CN_PASSPORT", "护照E12345678。", ["E12345678"]),
    ("CN_PASSPORT", "护照EA1234567", ["EA1234567"]),
    ("CN_PASSPORT", "编号e12345678", []),
    ("CN_HKMO_PERMIT", "通行证C12345678", ["C12345678"]),
    ("CN_HKMO_PERMIT", "回乡证H1234567801", ["H1234567801"]),
    ("CN_HKMO_PERMIT", "回乡证H123", []),
    # e-mail: never swallows the Chinese text before it
    ("EMAIL_ADDRESS", "发邮件至zhang.san@example.com。", ["zhang.san@example.com"]),
    ("EMAIL_ADDRESS", "邮箱a_b-c@mail.zj.gov.cn", ["a_b-c@mail.zj.gov.cn"]),
    ("EMAIL_ADDRESS", "不是邮箱user@localhost", []),
    # addresses
    ("ADDRESS", "住在浙江省杭州市西湖区文三路100号。", ["浙江省杭州市西湖区文三路100号"]),
    ("ADDRESS", "湖州市安吉县城关镇人民路5号", ["湖州市安吉县城关镇人民路5号"]),
    ("ADDRESS", "北京市朝阳区建国路88号SOHO", ["北京市朝阳区建国路88号"]),
    (
        "ADDRESS",
        "现住宁波市鄞州区五常街道学院路7号阳光花园3幢2单元501室，",
        ["宁波市鄞州区五常街道学院路7号阳光花园3幢2单元501室"],
    ),
    ("ADDRESS", "道路积水严重", []),
    # names
    ("PERSON", "市民王小明来电反映", ["王小明"]),
    ("PERSON", "投诉人欧阳娜娜称", ["欧阳娜娜"]),
    ("PERSON", "经李四核实。", ["李四"]),
    ("PERSON", "张三、李四等", ["张三", "李四"]),
    ("PERSON", "诸葛亮先生", ["诸葛亮"]),
    ("PERSON", "涉及金额100元", []),
    ("PERSON", "3幢2单元", []),
]


@pytest.mark.parametrize(("entity", "text", "expected"), CASES)
def test_recognizer(entity: str, text: str, expected: list[str]) -> None:
    assert found(text, entity) == expected


def test_identifiers_are_recognized_in_english_text_too() -> None:
    text = "ID 11010519491231002X, phone +86 13812345678, host 10.1.2.3"
    entities = {f.entity for f in presidio_find(text, lang="en")}
    assert {"CN_ID_CARD", "CN_MOBILE", "IP_ADDRESS"} <= entities


def test_every_recognizer_declares_its_language() -> None:
    for lang in ("zh", "en"):
        assert all(r.supported_language == lang for r in recognizers_for(lang))


def test_context_enhancement_does_not_crash() -> None:
    # Presidio's context enhancer needs an explanation on every result
    results = analyzer().analyze(
        "身份证11010519491231002X", language="zh", context=["身份证"], return_decision_process=True
    )
    assert results and all(r.analysis_explanation is not None for r in results)
