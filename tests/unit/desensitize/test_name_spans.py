"""Completing the model's names: compound surnames, lists, titles, words for a person, Latin
names; and words that begin with a surname but are no names."""

from __future__ import annotations

import random

import pytest

from desensitize import devnames
from desensitize.recognizers import ChineseNameModelRecognizer
from desensitize.recognizers.cn.name_spans import (
    after_person_word,
    completed,
    dotted_names,
    latin_names,
    listed,
    titled,
)


def _at(text: str, part: str) -> tuple[int, int]:
    start = text.index(part)
    return start, start + len(part)


@pytest.mark.parametrize(
    ("text", "found", "name"),
    [
        ("到场人员东郭欣娟等人", "郭欣娟", "东郭欣娟"),  # the first character of 东郭 left out
        ("参加调解的有濮阳浩梓、", "浩梓", "濮阳浩梓"),  # the whole compound surname left out
        ("本次值班：赫连静鸣。", "赫连", "赫连静鸣"),  # the surname alone
        ("接诉人澹台雯雨称", "澹台雯", "澹台雯雨"),
        ("经淳于磊医生介绍", "于磊", "淳于磊"),  # one given character, then a title
        ("值班：訾清清、张伟", "訾", "訾清清"),
        ("庹子、买买提·艾力和蒯曦", "买提·艾力", "买买提·艾力"),
        ("王小明反映", "王小明", "王小明"),  # whole already
        ("经阿不都热依木同意", "阿不", "阿不都热依木"),  # a transliterated name read in part
        ("扎西说明情况", "扎西", "扎西"),  # 说 is no syllable of a name
    ],
)
def test_the_model_s_span_is_completed(text: str, found: str, name: str) -> None:
    assert completed(text, *_at(text, found)) == _at(text, name)


@pytest.mark.parametrize(
    ("text", "found", "names"),
    [
        (
            "参加调解的有濮阳浩梓、鞠俊文、司马博然和揭思等人到场。",
            "鞠俊文",
            ["濮阳浩梓", "鞠俊文", "司马博然", "揭思"],
        ),
        ("本次值班：暨强、韶明思。", "韶明思", ["暨强", "韶明思"]),
        ("到场人员：其木格和荆天，现场秩序良好。", "荆天", []),  # no 、: no list
        ("上城区、西湖区和滨江区都有分会场。", None, []),  # no name found in it
        ("王五、上城区和公安局", "王五", ["王五"]),  # places and organisations are no names
    ],
)
def test_names_in_a_list(text: str, found: str | None, names: list[str]) -> None:
    spans = [_at(text, found)] if found else []
    assert sorted(text[s:e] for s, e in listed(text, spans)) == sorted(names)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("据曾若队长说明情况", ["曾若"]),
        ("经格桑卓玛警官介绍", ["格桑卓玛"]),
        ("请向医生咨询", []),
        ("经社区医生诊断", []),  # a place, not a name
        ("主治医生建议复查", []),
        ("投诉人称保安队长态度恶劣", []),  # 称 follows a person, it starts no name
        ("孩子在学校被同学欺负", []),  # 在 is no part of a name
    ],
)
def test_names_before_a_title(text: str, names: list[str]) -> None:
    assert [text[s:e] for s, e in titled(text)] == names


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("本案报案人蒯敏在现场。", ["蒯敏"]),
        ("当日调解员：公冶晨轩于上午到场。", ["公冶晨轩"]),
        ("濮阳振佑于昨日在武侯区摔伤。", ["濮阳振佑"]),
        ("工作人员于今日答复。", []),  # 于 is a surname and a preposition
        ("双方于今日达成协议。", []),
        ("居民反映噪音扰民。", []),
        ("石化企业已整改。", []),
        ("经查，情况属实。", []),
        ("韩国游客称行李丢失。", []),
        ("牛奶已过期。杨梅在冷库。", []),  # nouns opening a sentence
        ("钟表的玻璃碎了。", []),
        ("蒯远振称其被骗。", ["蒯远振"]),
        ("据闻人一振反映，路灯坏了。由蒯敏负责。", ["闻人一振", "蒯敏"]),
        ("由于天气原因，由车主负责，据了解，经过调查，由居委会负责。", []),
    ],
)
def test_names_after_a_word_for_a_person_or_opening_a_sentence(text: str, names: list[str]) -> None:
    assert [text[s:e] for s, e in after_person_word(text)] == names


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("外籍人员 John Smith 反映", ["John Smith"]),
        ("外方代表Anna Müller来到", ["Anna Müller"]),
        ("外方代表 Peter O'Brien 与", ["Peter O'Brien"]),
        ("留学生Olivia反映", ["Olivia"]),
        ("地址在Beijing Road附近", []),
        ("使用Excel表格", []),
        ("John Smith lives here", []),  # no Chinese: not this recognizer's text
    ],
)
def test_latin_names_in_chinese_text(text: str, names: list[str]) -> None:
    assert [text[s:e] for s, e in latin_names(text)] == names


def test_the_recognizer_finds_the_whole_names() -> None:
    text = "本次值班：东郭欣娟、鞠俊文和Emily Chen。据曾若队长说明，外籍人员John Smith已离开。"
    found = [f.text for f in ChineseNameModelRecognizer.find([text])[0]]
    assert found == ["东郭欣娟", "鞠俊文", "Emily Chen", "曾若", "John Smith"]


def test_the_second_development_corpus_is_seeded_and_labelled() -> None:
    first = devnames.development_names_corpus(3, 200)
    assert [t.text for t in first] == [t.text for t in devnames.development_names_corpus(3, 200)]
    for item in first:
        for start, end, _ in item.spans + item.negatives:
            assert 0 <= start < end <= len(item.text)
    names = [n for item in first for n in item.entities("PERSON")]
    assert any(n[:2] in devnames.COMPOUND_SURNAMES for n in names)
    assert any(n.isascii() for n in names)
    assert devnames.development_text(random.Random(1)).text


NO_PERSONS = [
    "西湖区卫生健康局于本周开展检查。",
    "上城区市心路与解放路交叉口拥堵。",
    "金华市婺城区人民法院已受理。",
    "杭州市公安局西湖区分局民警到场。",
    "市信访局转办至钱塘区住建局。",
    "高新区管委会回复称已整改。",
    "请到江干区凯旋街道办事处办理。",
    "石化企业排放问题已移交环保部门。",
    "黄金周期间景区客流较大。",
    "方案已报区政府审批。",
    "白天施工噪音大，晚上仍在施工。",
    "林业站工作人员现场查看。",
    "宋城景区门票价格调整。",
    "郑州东站出租车排队。",
    "和平里小区停车位不足。",
    "周边居民反映油烟扰民。",
    "钱江新城灯光秀延期。",
    "叶子掉落堵塞下水道。",
    "龙井村茶农要求补偿。",
    "温馨提示：请勿高空抛物。",
    "马路上积水严重，车辆难以通行。",
    "欧洲杯期间酒吧噪音扰民。",
    "东方明珠塔门票咨询。",
    "司马台长城景区开放时间。",
    "第五条规定了处罚标准。",
    "经查，该商户证照齐全。",
    "据了解，该路段正在改造。",
    "由于天气原因，活动延期。",
    "王府井步行街人流密集。",
    "工作人员于当日答复来电人。",
    "来电人要求相关部门尽快处理。",
    "投诉人对处理结果不满意。",
    "当事人双方已达成和解。",
    "家属要求医院给出说明。",
    "请联系Apple客服或者使用Excel表格。",
    "地址：Beijing",
    "Road",
    "100号。",
    "使用WeChat",
    "Pay付款失败。",
    "China",
    "Mobile营业厅排队时间长。",
    "医生建议住院观察。",
    "护士站电话无人接听。",
    "主任医师门诊已满。",
    "值班民警已到场。",
    "社区医生上门随访。",
    "人民医院急诊科医生态度差。",
    "申请人：",  # words for a person that begin with a surname character
    "申报人签字确认。",
    "经办人：",
    "付款人账户已冻结。",
    "车主已到场。",
    "陈述人：",
    "代理人签字。",
    "建议联系西湖区文化馆和钱江新城管委会。",
    "会议地点：国际会议中心·西厅。",
]


def test_places_organisations_titles_and_brands_are_no_persons() -> None:
    """Sentences without a person (districts, streets, organisations, titles without a name,
    Latin-script brands and places): the release's detector tags no PERSON in any."""
    from desensitize.textscan import find_entities_in

    for text, found in zip(NO_PERSONS, find_entities_in(NO_PERSONS), strict=True):
        assert [f.text for f in found if f.entity == "PERSON"] == [], text


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("阿不都热合曼·买买提称其商铺被占用。", ["阿不都热合曼·买买提"]),  # six before the dot
        ("他的朋友约翰·史密斯来了。", ["约翰·史密斯"]),  # 的 is no part of the name
        ("玛丽亚・加西亚女士参加了会议。", ["玛丽亚・加西亚"]),  # U+30FB, then a title
        ("今天阿不都•买买提来电", ["阿不都•买买提"]),  # U+2022; 今天 is no part of it
        ("穆罕默德·阿里·汗的签证到期。", ["穆罕默德·阿里·汗"]),  # three parts
        ("报警人：艾力·阿布拉，电话", ["艾力·阿布拉"]),
        ("请交给迪丽热巴·迪力木拉提。", ["迪丽热巴·迪力木拉提"]),
        ("车牌浙A·12345停在路边。", []),  # a plate: no Chinese after the dot
        ("会议地点：国际会议中心·西厅。", []),  # a place, an organisation
        ("上城区·钱江新城", []),
    ],
)
def test_names_joined_by_a_middle_dot(text: str, names: list[str]) -> None:
    assert [text[s:e] for s, e in dotted_names(text)] == names


def test_a_dotted_name_the_model_does_not_read_is_found() -> None:
    text = "信访人阿不都热合曼·买买提反映，其商铺被占用。"
    found = ChineseNameModelRecognizer.find([text])[0]
    assert [f.text for f in found] == ["阿不都热合曼·买买提"]
