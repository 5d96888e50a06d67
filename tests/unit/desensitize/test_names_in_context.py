"""Names in sentences of other shapes than the synthetic notes: after kin words and titles, before
what a person does next, at the start of a sentence; and sentences without names whose words
begin with a surname character. Both scanners must give the same answer."""

from __future__ import annotations

import polars as pl
import pytest

from desensitize import vectorized
from desensitize.findings import replace_findings
from desensitize.textscan import redact_text, rule_entities

WITH_NAMES = [
    ("我和张三丰去了超市。", ["张三丰"]),
    ("今天赵六来了一趟。", ["赵六"]),
    ("李明去年搬到了杭州。", ["李明"]),
    ("经理王建国同意了申请。", ["王建国"]),
    ("昨天刘伟打电话投诉。", ["刘伟"]),
    ("孙丽丽也参加了会议。", ["孙丽丽"]),
    ("这件事由周杰负责。", ["周杰"]),
    ("黄海涛认为处理不当。", ["黄海涛"]),
    ("据村民反映，吴刚经常在此停车。", ["吴刚"]),
    ("小区保安马强发现了问题。", ["马强"]),
    ("她丈夫胡斌已经报警。", ["胡斌"]),
    ("工作人员告诉徐敏需要补充材料。", ["徐敏"]),
    ("于是林峰又来到信访局。", ["林峰"]),
    ("孩子的父亲高翔拒绝签字。", ["高翔"]),
    ("罗敏今年三十五岁。", ["罗敏"]),
    ("唐磊、韩梅梅两人均表示不满。", ["唐磊", "韩梅梅"]),
    ("曾志伟现居住在广州。", ["曾志伟"]),
    ("董明珠担任董事长。", ["董明珠"]),
    ("经调解，双方当事人朱永和李晓同意和解。", ["朱永", "李晓"]),
    ("社区主任沈丽华到场协调。", ["沈丽华"]),
    ("卢家豪今天没来上班。", ["卢家豪"]),
    ("姜涛于3月2日提交了材料。", ["姜涛"]),
    ("刘婷婷跟她妈妈说了这件事。", ["刘婷婷"]),
]
WITHOUT_NAMES = [
    "王府井大街人流很大。",
    "高速公路上发生了追尾。",
    "方便的时候请回电。",
    "黄金周期间游客较多。",
    "马上安排人员处理。",
    "周一到周五正常办公。",
    "万一出现问题怎么办？",
    "高温天气注意防暑。",
    "白天噪音太大影响休息。",
    "周边商铺已经关门。",
    "马路上有很多积水。",
    "文件已经下发。",
    "安排专人负责。",
    "黄河水位上涨。",
    "钱塘江大潮来了。",
    "经过调查，情况属实。",
    "由于天气原因航班延误。",
    # districts and streets: no given name ends with a place's last character
    "上城区市心路路口正在施工。",
    "西湖区文三路拥堵严重。",
    "余杭区和武侯区都有分会场。",
    "金水区黄河路附近停水。",
    "吴中区长江路",
    "岳麓区",
]
# Latin-script names inside Chinese text (the rules do not look for them; the model does).
LATIN_NAMES = [
    ("客户Robert Lee投诉快递延误。", ["Robert Lee"]),
    ("我们约了Mark Thompson和Susan在酒店见面。", ["Mark Thompson", "Susan"]),
    ("同事小王和Tom Hanks一起加班。", ["Tom Hanks"]),
]


def _both(texts: list[str]) -> tuple[list[str], list[str]]:
    """The vectorised rules and the scanner's rules (they must agree)."""
    vectorised = vectorized.redact_series(pl.Series(texts)).to_list()
    return vectorised, [replace_findings(t, rule_entities(t)) for t in texts]


@pytest.mark.parametrize(("text", "names"), WITH_NAMES)
def test_names_are_found_in_many_sentence_shapes(text: str, names: list[str]) -> None:
    (vectorised,), (one_at_a_time,) = _both([text])
    assert vectorised == one_at_a_time
    for redacted in (vectorised, redact_text(text)):  # the rules, then rules and model
        assert redacted.count("<PERSON>") == len(names)
        assert not any(name in redacted for name in names)


def test_words_that_begin_with_a_surname_are_no_names() -> None:
    vectorised, one_at_a_time = _both(WITHOUT_NAMES)
    assert vectorised == one_at_a_time == WITHOUT_NAMES
    assert [redact_text(t) for t in WITHOUT_NAMES] == WITHOUT_NAMES


@pytest.mark.parametrize(("text", "names"), LATIN_NAMES)
def test_latin_names_in_chinese_text(text: str, names: list[str]) -> None:
    redacted = redact_text(text)
    assert not any(name in redacted for name in names)
