"""A held-out corpus of Chinese free text with labelled spans, for judging name recognition.

HELD OUT: this generator is for measuring only. No rule, word list or threshold is ever tuned on
it or on what a recognizer misses in it; tuning uses the development corpus
(:mod:`desensitize.synthetic` and ``tests/unit/desensitize/test_names_in_context.py``).

It shares nothing with the development corpus that decides whether a name is found: its single and
double surnames are none of :data:`desensitize.lexicon.SINGLE_SURNAMES` and
:data:`~desensitize.lexicon.DOUBLE_SURNAMES`, its given-name characters none of
:data:`desensitize.synthetic.GIVEN_CHARS`, and its sentences are other kinds of text (medical
notes, petitions, police reports, visitor logs, lists of names, names opening a sentence, English
names inside Chinese text). It also holds what is *not* a name: district, street and organisation
names and common words that begin with a surname character, which a precise recognizer leaves
alone. A few identifiers and look-alikes (record numbers) are mixed in, written as people write
them.

    rng = random.Random(2026)
    texts = [heldout_text(rng) for _ in range(2000)]
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from desensitize import synthetic

# Real surnames outside the development corpus's lists (checked by a test).
SURNAMES = (
    "蔺鄢訾晁茅闻蒯郗禹邰扈钮芮逯隗厉仝班郜蓟薄印宿怀亓佴寿束计伏羿宓暴鞠井储汲邴糜桓晋楚冀郁雍璩濮"
    "阚荀惠封松富巴牧秋伊戎祖幸韶鄂索赖屠胥苍莘贡劳逄堵宰郦燕郏浦阎慕茹习宦鱼容慎戈庾暨衡步满弘匡禄"
    "阙殳沃蔚越隆厍融乜巢荆竺权盖"
)
COMPOUND_SURNAMES = (
    "澹台",
    "公冶",
    "太史",
    "申屠",
    "百里",
    "钟离",
    "闻人",
    "万俟",
    "赫连",
    "乐正",
    "濮阳",
    "左丘",
    "第五",
    "东郭",
    "司空",
    "拓跋",
    "仲孙",
)
GIVEN = (
    "骁昊轩烨彧翊璟煜晗琪婧筱芷墨沐楷钰琨珩湛曦溪萱涵睿宸奕铭皓珂韬骏锐崇骞鑫淼焱昕晔璇瑜瑛萌蕾蕴"
    "苒菀莹霖霏雯霓靖竣彦弈徽懿恺惟暄旻晟晖曜朔杉柯栩桐梓楠榕槿歆沛泓洵涓淳渊澄瀚炜烁焕熠璞璋祺禾"
    "秉笙箫粲纶绮缙羲翎耀聿舜舸芊芃苇茵莘葳蓁蔓蕙薰蘅衍赟轶辙迪逸遥铎锋镕隽韫颂颢飒骐骥鹤鸿麒"
)
ENGLISH_NAMES = (
    "John Smith",
    "Emily Clarke",
    "Michael Brown",
    "Sarah Johnson",
    "David Miller",
    "Anna Kowalski",
    "Peter Novak",
    "Maria Garcia",
    "James O'Neil",
    "Laura Fischer",
    "Thomas Wright",
    "Olivia Martin",
)
# Not names: places, streets, organisations and words that begin with a surname character.
DISTRICTS = (
    "上城区",
    "拱墅区",
    "滨江区",
    "萧山区",
    "临平区",
    "钱塘区",
    "富阳区",
    "临安区",
    "桐庐县",
    "淳安县",
    "建德市",
    "江干区",
    "下城区",
    "柯桥区",
    "越城区",
    "龙湾区",
    "鹿城区",
    "婺城区",
    "柯城区",
    "黄岩区",
)
STREETS = (
    "市心路",
    "解放东路",
    "凤起路",
    "庆春路",
    "湖墅南路",
    "秋涛北路",
    "江南大道",
    "金城路",
    "钱江路",
    "之江路",
    "体育场路",
    "武林路",
    "环城西路",
    "曙光路",
    "古墩路",
    "丰潭路",
)
ORGANISATIONS = (
    "浙江大学医学院附属第一医院",
    "杭州市第三人民医院",
    "上城区人民法院",
    "拱墅区信访局",
    "滨江区市场监督管理局",
    "萧山区公安分局",
    "钱江新城管委会",
    "杭州市红十字会",
    "浙江省人民检察院",
    "胡庆余堂国药号",
    "湖滨街道办事处",
    "闸弄口派出所",
)
COMMON_WORDS = (
    "班车",
    "印章",
    "宿舍",
    "计划",
    "暴雨",
    "井盖",
    "储物间",
    "松动",
    "富余",
    "封闭",
    "牧场",
    "秋季",
    "祖屋",
    "幸好",
    "索赔",
    "屠宰",
    "满意",
    "步行",
    "盖章",
    "权益",
    "惠民",
    "燕窝",
    "荆棘",
    "劳务",
    "慎重",
)
SYMPTOMS = ("反复咳嗽一周", "胸闷气短三天", "右下腹疼痛", "头晕乏力", "发热38.5℃", "腰背部疼痛")
DIAGNOSES = ("社区获得性肺炎", "急性阑尾炎", "高血压2级", "2型糖尿病", "腰椎间盘突出")
PETITION_MATTERS = (
    "拆迁补偿款未到位",
    "工资被拖欠半年",
    "楼上漏水多次协调无果",
    "小区电梯长期故障",
    "宅基地界线纠纷",
)
INCIDENTS = ("电动车被盗", "邻里纠纷引发推搡", "手机被骗转账", "醉酒滋事", "车辆剐蹭")


@dataclass
class LabelledText:
    """A text and its labelled spans ``(start, end, entity)``; ``negatives`` are spans of words
    that are no personal data (places, organisations, common words) a recognizer must leave."""

    text: str
    spans: list[tuple[int, int, str]] = field(default_factory=list)
    negatives: list[tuple[int, int, str]] = field(default_factory=list)

    def entities(self, entity: str) -> list[str]:
        return [self.text[s:e] for s, e, kind in self.spans if kind == entity]


class _Writer:
    """Builds a text piece by piece and remembers where each labelled piece is."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.at = 0
        self.spans: list[tuple[int, int, str]] = []
        self.negatives: list[tuple[int, int, str]] = []

    def __call__(self, text: str, entity: str | None = None, *, negative: bool = False) -> None:
        if entity is not None:
            (self.negatives if negative else self.spans).append(
                (self.at, self.at + len(text), entity)
            )
        self.parts.append(text)
        self.at += len(text)

    def done(self) -> LabelledText:
        return LabelledText("".join(self.parts), self.spans, self.negatives)


def chinese_name(rng: random.Random) -> str:
    """A name with a held-out surname (1 in 5 compound) and one or two held-out characters."""
    surname = rng.choice(COMPOUND_SURNAMES) if rng.random() < 0.2 else rng.choice(SURNAMES)
    return surname + "".join(rng.choice(GIVEN) for _ in range(1 if rng.random() < 0.35 else 2))


def _name(w: _Writer, rng: random.Random) -> None:
    w(chinese_name(rng), "PERSON")


def _place(w: _Writer, rng: random.Random) -> None:
    w(rng.choice(DISTRICTS), "DISTRICT", negative=True)
    w(rng.choice(STREETS), "STREET", negative=True)


def _org(w: _Writer, rng: random.Random) -> None:
    w(rng.choice(ORGANISATIONS), "ORGANISATION", negative=True)


def _word(w: _Writer, rng: random.Random) -> None:
    w(rng.choice(COMMON_WORDS), "WORD", negative=True)


def _medical(w: _Writer, rng: random.Random) -> None:
    w("患者")
    _name(w, rng)
    w(f"，{rng.choice('男女')}，{rng.randrange(18, 90)}岁，因{rng.choice(SYMPTOMS)}就诊于")
    _org(w, rng)
    w(f"。初步诊断：{rng.choice(DIAGNOSES)}。住院号{rng.randrange(10**7, 10**8)}，主治医师")
    _name(w, rng)
    w("，家属")
    _name(w, rng)
    w("陪同。")


def _petition(w: _Writer, rng: random.Random) -> None:
    w("信访人")
    _name(w, rng)
    w("来信称，其位于")
    _place(w, rng)
    w(f"的住房{rng.choice(PETITION_MATTERS)}，")
    _word(w, rng)
    w("问题至今未解决。据")
    _name(w, rng)
    w("反映，该事项由")
    _name(w, rng)
    w("负责，已转")
    _org(w, rng)
    w("办理。")


def _police(w: _Writer, rng: random.Random) -> None:
    w(f"{rng.randrange(1, 13)}月{rng.randrange(1, 29)}日，报警人")
    _name(w, rng)
    w(f"称在{rng.choice(STREETS)}附近{rng.choice(INCIDENTS)}。")
    w("民警赶到后，当事人")
    _name(w, rng)
    w("承认了事实，身份证号")
    idn = synthetic.valid_id_number(rng)
    w(idn, "CN_ID_CARD")
    w(f"，案件编号A{rng.randrange(10**11, 10**12)}。")


def _visitor(w: _Writer, rng: random.Random) -> None:
    w("来访人员")
    _name(w, rng)
    w("（手机")
    w(synthetic.formatted_mobile(rng), "CN_MOBILE")
    w("）到")
    _org(w, rng)
    w("咨询，持照人")
    _name(w, rng)
    w("的营业执照需要")
    _word(w, rng)
    w("后补办。")


def _list(w: _Writer, rng: random.Random) -> None:
    w("参加协调会的有")
    _name(w, rng)
    w("、")
    _name(w, rng)
    w("和")
    _name(w, rng)
    w("，会议在")
    _place(w, rng)
    w("召开。")


def _opening(w: _Writer, rng: random.Random) -> None:
    _name(w, rng)
    w(rng.choice(("于本月初搬离", "自述长期失眠", "在会上作了发言", "多次来电未果")))
    w("，随后")
    _name(w, rng)
    w("也到了")
    _place(w, rng)
    w("。")


def _english(w: _Writer, rng: random.Random) -> None:
    w("外籍人员")
    w(rng.choice(ENGLISH_NAMES), "PERSON")
    w("在")
    _place(w, rng)
    w(f"一带{rng.choice(INCIDENTS)}，翻译")
    _name(w, rng)
    w("协助询问，")
    w(rng.choice(ENGLISH_NAMES), "PERSON")
    w("表示")
    _word(w, rng)
    w("。")


def _no_names(w: _Writer, rng: random.Random) -> None:
    _place(w, rng)
    w("与")
    _place(w, rng)
    w("交叉口")
    _word(w, rng)
    w("，")
    _org(w, rng)
    w(f"已安排处理，回执编号{rng.randrange(10**9, 10**10)}。")


SHAPES: tuple[Callable[[_Writer, random.Random], None], ...] = (
    _medical,
    _petition,
    _police,
    _visitor,
    _list,
    _opening,
    _english,
    _no_names,
)


def heldout_text(rng: random.Random) -> LabelledText:
    """One labelled text of a randomly chosen kind."""
    w = _Writer()
    rng.choice(SHAPES)(w, rng)
    return w.done()


def heldout_corpus(seed: int, n: int) -> list[LabelledText]:
    """``n`` labelled texts from a seeded generator."""
    rng = random.Random(seed)
    return [heldout_text(rng) for _ in range(n)]
