"""A second development corpus for names: shapes of text the hotline notes do not have.

DEVELOPMENT: this corpus is for tuning (the name filters of
:mod:`desensitize.recognizers.cn.model_name`, the word lists, the Latin-name rule). It was written
without reading the held-out corpus (:mod:`desensitize.heldout`) or what a recognizer misses in
it. Its shapes: lists of names (甲、乙和丙), names opening a sentence, names followed by a title
(X医生, X警官), names after context words the rules do not list (接待人, 报案人 …), compound
surnames (common and rare), single-character given names, rare single surnames, minority and
transliterated names (with and without a middle dot), and English names inside Chinese text. Each
text also holds words that are no person (districts, streets, organisations, common words that
begin with a surname character), labelled as negatives.

    corpus = development_names_corpus(seed=7, n=2000)
"""

from __future__ import annotations

import random
from collections.abc import Callable

from desensitize import synthetic
from desensitize.heldout import LabelledText

COMMON_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
# Real surnames the rules' list does not hold.
RARE_SURNAMES = "冼钮谌揭晁扈栗逯鞠郜禹阚庹仝亓雍邰宓荆蔺芮糜訾韶阎蒯滑郗佴檀暨竺桓鄢阙"


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


COMPOUND_SURNAMES = _words(
    "欧阳 司马 诸葛 上官 东方 慕容 司空 东郭 钟离 宗政 濮阳 淳于 申屠 闻人 赫连 太史 公冶 澹台"
)
GIVEN = "子轩浩然雨涵梓萱思远嘉怡俊杰欣妍一鸣晨曦振宇婉清文博若溪天佑静雯伟芳明丽强敏磊娟"
MINORITY_NAMES = (
    "阿依古丽",
    "买买提·艾力",
    "热合曼·吐尔逊",
    "扎西多吉",
    "格桑卓玛",
    "巴特尔",
    "乌兰托娅",
    "次仁央金",
    "古丽娜尔",
    "阿不都热依木",
    "其木格",
    "达瓦次仁",
)
ENGLISH_NAMES = (
    "John Smith",
    "Emily Chen",
    "Michael Brown",
    "Sarah Johnson",
    "David Miller",
    "Anna Müller",
    "Peter O'Brien",
    "Laura Garcia",
    "James",
    "Olivia",
    "Tom Wilson",
    "Kevin Lee",
)
TITLES = _words("医生 警官 律师 主任 老师 护士 师傅 队长 院长 会计 法官 记者")
# Context words before a name that the rules' trigger list does not hold.
NEW_CONTEXTS = _words(
    "接待人 值班员 报案人 受害人 嫌疑人 证人 代理人 监护人 委托人 访客 病人 签发人 核查人 接诉人"
    " 陪护人 销售员 快递员 调解员"
)
DISTRICTS = ("上城区", "鼓楼区", "武侯区", "南山区", "江干区", "和平区", "金水区", "高新区")
STREETS = ("中山路", "解放街道", "学院路", "人民大道", "文一西路", "黄龙路", "凤起路")
ORGANISATIONS = ("人民医院", "市公安局", "街道办事处", "社区居委会", "市信访局", "第一中学")
COMMON_WORDS = ("高铁", "金融", "石化", "林地", "方案", "马上", "安全", "黄金周", "江边", "周末")


class _Writer:
    """Builds a text piece by piece, remembering where each labelled piece is."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.at = 0
        self.spans: list[tuple[int, int, str]] = []
        self.negatives: list[tuple[int, int, str]] = []

    def __call__(self, text: str, entity: str | None = None, *, negative: bool = False) -> None:
        if entity is not None:
            where = self.negatives if negative else self.spans
            where.append((self.at, self.at + len(text), entity))
        self.parts.append(text)
        self.at += len(text)

    def done(self) -> LabelledText:
        return LabelledText("".join(self.parts), self.spans, self.negatives)


def chinese_name(rng: random.Random) -> str:
    """A Chinese name: a common, rare or compound surname; one or two given characters."""
    kind = rng.random()
    if kind < 0.1:
        return rng.choice(MINORITY_NAMES)
    if kind < 0.3:
        surname = rng.choice(COMPOUND_SURNAMES)
    elif kind < 0.6:
        surname = rng.choice(RARE_SURNAMES)
    else:
        surname = rng.choice(COMMON_SURNAMES)
    return surname + "".join(rng.choice(GIVEN) for _ in range(1 if rng.random() < 0.35 else 2))


def _name(w: _Writer, rng: random.Random) -> None:
    w(chinese_name(rng), "PERSON")


def _negative(w: _Writer, rng: random.Random, words: tuple[str, ...], kind: str) -> None:
    w(rng.choice(words), kind, negative=True)


def _list(w: _Writer, rng: random.Random) -> None:
    w(rng.choice(("参加调解的有", "到场人员：", "本次值班：", "")))
    count = rng.randint(2, 4)
    for i in range(count):
        if i:
            w("和" if i == count - 1 and rng.random() < 0.5 else "、")
        _name(w, rng)
    w(rng.choice(("。", "等人到场。", f"{count}人均签字确认。", "，现场秩序良好。")))


def _opening(w: _Writer, rng: random.Random) -> None:
    _name(w, rng)
    w(rng.choice(("于昨日", "今年", "当晚", "自述", "上周")))
    w(rng.choice(("在", "前往")))
    _negative(w, rng, DISTRICTS, "DISTRICT")
    _negative(w, rng, STREETS, "STREET")
    w(rng.choice(("附近走失。", "办理业务。", "与人发生争执。", "摔伤。")))


def _titled(w: _Writer, rng: random.Random) -> None:
    w(rng.choice(("", "经", "据", "后由")))
    _name(w, rng)
    w(rng.choice(TITLES))
    w(rng.choice(("介绍，", "说明情况后，", "到场处理，", "建议")))
    _negative(w, rng, ORGANISATIONS, "ORGANISATION")
    w(rng.choice(("跟进。", "复查。", "出具意见。")))


def _context(w: _Writer, rng: random.Random) -> None:
    w(rng.choice(("", "本案", "当日")))
    w(rng.choice(NEW_CONTEXTS))
    if rng.random() < 0.5:
        w(rng.choice(("：", " ")))
    _name(w, rng)
    w(rng.choice(("，", "在", "于", "称")))
    _negative(w, rng, COMMON_WORDS, "WORD")
    w(rng.choice(("方面有疑问。", "问题上提出意见。", "期间联系过")))
    if rng.random() < 0.5:
        w(synthetic.valid_mobile(rng), "CN_MOBILE")
    w("。")


def _reported(w: _Writer, rng: random.Random) -> None:
    """据X反映 / 由X负责 / 经X同意: a name between a preposition and a verb."""
    before, after = rng.choice(
        (("据", "反映，"), ("由", "负责"), ("经", "同意，"), ("被", "打伤，"))
    )
    w(before)
    _name(w, rng)
    w(after)
    _negative(w, rng, STREETS, "STREET")
    w(rng.choice(("的路灯已修复。", "一带加强巡查。")))


def _english(w: _Writer, rng: random.Random) -> None:
    w(rng.choice(("外籍人员", "客户", "留学生", "", "外方代表")))
    w(rng.choice(("", " ")))
    w(rng.choice(ENGLISH_NAMES), "PERSON")
    w(rng.choice(("", " ")))
    w(rng.choice(("反映", "来到", "与")))
    if rng.random() < 0.4:
        _name(w, rng)
        w("一起来到")
    _negative(w, rng, ORGANISATIONS, "ORGANISATION")
    w(rng.choice(("咨询签证事宜。", "办理登记。", "投诉服务态度。")))


def _no_names(w: _Writer, rng: random.Random) -> None:
    _negative(w, rng, DISTRICTS, "DISTRICT")
    _negative(w, rng, STREETS, "STREET")
    w(rng.choice(("一带", "沿线")))
    _negative(w, rng, COMMON_WORDS, "WORD")
    w(rng.choice(("施工，", "检查，")))
    _negative(w, rng, ORGANISATIONS, "ORGANISATION")
    w("已通知相关单位，身份证号")
    w(synthetic.valid_id_number(rng), "CN_ID_CARD")
    w("的记录已核对。")


SHAPES: tuple[Callable[[_Writer, random.Random], None], ...] = (
    _list,
    _opening,
    _titled,
    _context,
    _reported,
    _english,
    _no_names,
)


def development_text(rng: random.Random) -> LabelledText:
    """One text of two or three sentences of the shapes above."""
    w = _Writer()
    for _ in range(rng.randint(2, 3)):
        rng.choice(SHAPES)(w, rng)
    return w.done()


def development_names_corpus(seed: int, n: int) -> list[LabelledText]:
    """``n`` texts, the same for the same seed."""
    rng = random.Random(seed)
    return [development_text(rng) for _ in range(n)]
