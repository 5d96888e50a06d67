"""Seeded synthetic Chinese personal data with valid check digits, and look-alikes that are not.

Every function takes a ``random.Random`` so that demo data and benchmarks are reproducible::

    rng = random.Random(7)
    rows = [fake_person_row(rng) for _ in range(1000)]
"""

from __future__ import annotations

import datetime as dt
import random
import string
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from desensitize.checksums import (
    USCC_ALPHABET,
    id_check_char,
    is_luhn_valid,
    is_valid_id_number,
    luhn_check_digit,
    org_code_check_char,
    uscc_check_char,
)
from desensitize.lexicon import DOUBLE_SURNAMES, NOT_NAMES, PLATE_PROVINCES, SINGLE_SURNAMES

GIVEN_CHARS = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉萍红娥玲芬燕彩春菊凤洁梅琳素云莲真环雪荣爱"
    "妹香月莺媛瑞凡佳嘉琼勤珍贞莉薇菁梦岚苑婕馨瑗琰韵融园艺咏卿聪澜纯毓悦昭冰爽琬茗羽希宁欣飘育滢馥筠柔"
    "竹霭凝晓欢霄枫芸菲寒伊亚宜可姬舒影荔枝思丽秀娟英华慧巧美娜静淑惠珠翠雅芝玉萍红娥玲芬芳燕彩春菊兰凤"
    "洁梅琳素云莲真环雪荣爱妹霞香月莺媛艳瑞凡佳嘉琼勤珍贞莉桂娣叶璧璐娅琦晶妍茜秋珊莎锦黛青倩婷姣婉娴瑾"
    "颖露瑶怡婵雁蓓纨仪荷丹蓉眉君琴蕊薇菁梦岚苑筠柔竹霭凝晓欢霄枫芸菲寒伊亚宜可姬舒影荔枝思涛昌进林有坚"
    "和彪博诚先敬震振壮会群豪心邦承乐绍功松善厚庆磊民友裕河哲江超浩亮政谦亨奇固之轮翰朗伯宏言若鸣朋斌梁"
    "栋维启克伦翔旭鹏泽晨辰士以建家致树炎德行时泰盛雄琛钧冠策腾伟刚勇毅俊峰强军平保东文辉力明永健世广志"
    "义兴良海山仁波宁贵福生龙元全国胜学祥才发成康星光天达安岩中茂武新利清飞彬富顺信子杰涛昌"
)

# (province, city, district, area code of the district)
DISTRICTS = (
    ("北京市", "", "朝阳区", "110105"),
    ("北京市", "", "海淀区", "110108"),
    ("上海市", "", "徐汇区", "310104"),
    ("上海市", "", "浦东新区", "310115"),
    ("天津市", "", "和平区", "120101"),
    ("重庆市", "", "渝中区", "500103"),
    ("浙江省", "杭州市", "西湖区", "330106"),
    ("浙江省", "杭州市", "余杭区", "330110"),
    ("浙江省", "宁波市", "鄞州区", "330212"),
    ("浙江省", "温州市", "瑞安市", "330381"),
    ("浙江省", "金华市", "义乌市", "330782"),
    ("浙江省", "湖州市", "安吉县", "330523"),
    ("江苏省", "南京市", "鼓楼区", "320106"),
    ("江苏省", "苏州市", "吴中区", "320506"),
    ("广东省", "广州市", "天河区", "440106"),
    ("广东省", "深圳市", "南山区", "440305"),
    ("四川省", "成都市", "武侯区", "510107"),
    ("湖北省", "武汉市", "洪山区", "420111"),
    ("陕西省", "西安市", "雁塔区", "610113"),
    ("山东省", "济南市", "历下区", "370102"),
    ("河南省", "郑州市", "金水区", "410105"),
    ("福建省", "厦门市", "思明区", "350203"),
    ("湖南省", "长沙市", "岳麓区", "430104"),
    ("安徽省", "合肥市", "蜀山区", "340104"),
    ("云南省", "昆明市", "五华区", "530102"),
    ("广西壮族自治区", "南宁市", "青秀区", "450103"),
    ("内蒙古自治区", "呼和浩特市", "新城区", "150102"),
    ("黑龙江省", "哈尔滨市", "南岗区", "230103"),
)
TOWNS = ("古荡街道", "良渚街道", "五常街道", "城关镇", "塘栖镇", "北新街道", "梅林街道", "新桥镇")
ROADS = (
    "文三路",
    "学院路",
    "天目山路",
    "解放大道",
    "人民路",
    "中山北路",
    "建设大道",
    "延安路",
    "长江路",
    "黄河路",
    "和平街",
    "幸福巷",
    "教工路",
    "莫干山路",
    "滨江大道",
    "科技园路",
)
ESTATES = ("阳光花园", "翠苑一区", "金色家园", "桂花城", "锦绣华庭", "和谐小区", "东方新村")
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
MOBILE_OTHER_PREFIXES = (145, 147, 166, 172, 173, 175, 176, 177, 178, 191, 193, 195, 198, 199)
MOBILE_PREFIXES = tuple(
    str(n)
    for n in range(130, 200)
    if (n // 10 in (13, 15, 18) and n != 154) or n in MOBILE_OTHER_PREFIXES
)
CARD_BINS = ("622202", "622848", "621700", "622700", "620522", "623052", "622588", "621483")
EMAIL_DOMAINS = ("qq.com", "163.com", "126.com", "sina.com", "gmail.com", "outlook.com", "zj.cn")
PINYIN = ("wang", "li", "zhang", "liu", "chen", "yang", "huang", "zhao", "xiaoming", "lei", "fang")
ISSUES = (
    "小区噪音扰民",
    "物业费收取不合理",
    "道路积水严重",
    "公交线路调整",
    "医保报销进度",
    "社保转移接续",
    "违章停车占用消防通道",
    "装修垃圾未及时清运",
    "商铺油烟扰民",
    "学区划分咨询",
)
CALLER_WORDS = ("市民", "来电人", "投诉人", "联系人", "业主", "居民", "")


def person_name(rng: random.Random) -> str:
    """A Chinese name: a common surname (1 in 20 of two characters) and a 1–2 character name;
    never one that begins with a word of :data:`~desensitize.lexicon.NOT_NAMES` (吉林琛), which
    the rules leave alone by design."""
    while True:
        surname = (
            rng.choice(DOUBLE_SURNAMES) if rng.random() < 0.05 else rng.choice(SINGLE_SURNAMES)
        )
        given = "".join(rng.choice(GIVEN_CHARS) for _ in range(1 if rng.random() < 0.3 else 2))
        if not (surname + given).startswith(NOT_NAMES):
            return surname + given


def birth_date(rng: random.Random) -> dt.date:
    """A birth date between 1940 and 2008."""
    return dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(68 * 365))


def valid_id_number(
    rng: random.Random, *, born: dt.date | None = None, area_code: str | None = None
) -> str:
    """An 18-character resident ID number with a valid MOD 11-2 check character."""
    area = area_code or rng.choice(DISTRICTS)[3]
    first17 = f"{area}{(born or birth_date(rng)):%Y%m%d}{rng.randrange(1000):03d}"
    return first17 + id_check_char(first17)


def invalid_id_number(rng: random.Random) -> str:
    """A look-alike: a valid ID number with its check character changed."""
    good = valid_id_number(rng)
    wrong = rng.choice([c for c in "0123456789X" if c != good[-1]])
    return good[:-1] + wrong


def valid_mobile(rng: random.Random) -> str:
    """An 11-digit mainland mobile number."""
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def formatted_mobile(rng: random.Random) -> str:
    """A mobile number as people write it: plain, with +86, spaces or dashes."""
    m = valid_mobile(rng)
    style = rng.randrange(5)
    if style == 1:
        return f"+86 {m}"
    if style == 2:
        return f"{m[:3]} {m[3:7]} {m[7:]}"
    if style == 3:
        return f"{m[:3]}-{m[3:7]}-{m[7:]}"
    if style == 4:
        return f"+86-{m}"
    return m


def landline(rng: random.Random) -> str:
    """A fixed-line number with its area code set apart, as people write it."""
    area = rng.choice(["010", "021", "020", "0571", "0755", "0574", "0898"])
    digits = 8 if area in ("010", "021", "020") else rng.choice([7, 8])
    local = str(rng.randrange(2, 10)) + "".join(str(rng.randrange(10)) for _ in range(digits - 1))
    style = rng.randrange(4)
    if style == 1:
        return f"({area}){local}"
    if style == 2:
        return f"+86 {area[1:]} {local[:-4]} {local[-4:]}"
    if style == 3:
        return f"{area} {local}"
    return f"{area}-{local}"


def valid_bank_card(rng: random.Random) -> str:
    """A 16- or 19-digit UnionPay-style card number passing Luhn."""
    length = rng.choice((16, 19))
    payload = rng.choice(CARD_BINS) + "".join(rng.choice(string.digits) for _ in range(length - 7))
    return payload + luhn_check_digit(payload)


def invalid_bank_card(rng: random.Random) -> str:
    """A look-alike: a card number whose last digit fails Luhn."""
    good = valid_bank_card(rng)
    return good[:-1] + str((int(good[-1]) + rng.randrange(1, 10)) % 10)


def valid_uscc(rng: random.Random) -> str:
    """An 18-character unified social credit code (GB 32100) with valid check characters."""
    head = rng.choice(("91", "92", "93", "11", "12", "51", "52", "Y1"))
    area = rng.choice(DISTRICTS)[3]
    org8 = "".join(rng.choice(string.digits + "ABCDEFGHJKLMNPQRTUWXY") for _ in range(8))
    first17 = head + area + org8 + org_code_check_char(org8)
    return first17 + uscc_check_char(first17)


def invalid_uscc(rng: random.Random) -> str:
    """A look-alike: a USCC with its last character changed."""
    good = valid_uscc(rng)
    return good[:-1] + rng.choice([c for c in USCC_ALPHABET if c != good[-1]])


def plate(rng: random.Random, *, new_energy: bool | None = None, dot: bool | None = None) -> str:
    """A licence plate: ordinary (浙A·12345) or new-energy (浙AD12345), with or without the dot."""
    head = rng.choice(PLATE_PROVINCES) + rng.choice(PLATE_LETTERS)
    if new_energy if new_energy is not None else rng.random() < 0.25:
        digits = f"{rng.randrange(10**5):05d}"
        body = rng.choice("DF") + digits if rng.random() < 0.8 else digits + rng.choice("DF")
    else:
        chars = [rng.choice(string.digits) for _ in range(5)]
        for i in rng.sample(range(5), rng.randrange(3)):
            chars[i] = rng.choice(PLATE_LETTERS)
        body = "".join(chars)
    sep = "·" if (dot if dot is not None else rng.random() < 0.4) else ""
    return head + sep + body


def passport(rng: random.Random) -> str:
    """A PRC passport number (E + 8 digits, or E + letter + 7 digits)."""
    if rng.random() < 0.7:
        return "E" + f"{rng.randrange(10**8):08d}"
    return "E" + rng.choice(PLATE_LETTERS) + f"{rng.randrange(10**7):07d}"


def hkmo_permit(rng: random.Random) -> str:
    """A Hong Kong/Macau travel permit: C + 8 (mainland residents) or H/M + 8 (+2) digits."""
    kind = rng.randrange(3)
    if kind == 0:
        return "C" + f"{rng.randrange(10**8):08d}"
    suffix = f"{rng.randrange(100):02d}" if kind == 2 else ""
    return rng.choice("HM") + f"{rng.randrange(10**8):08d}" + suffix


def address(rng: random.Random, *, detailed: bool = True) -> str:
    """A Chinese street address: province, city, district, optional town, road, number, flat."""
    province, city, district, _ = rng.choice(DISTRICTS)
    parts = [province if rng.random() < 0.7 or not city else "", city, district]
    if rng.random() < 0.3:
        parts.append(rng.choice(TOWNS))
    parts.append(f"{rng.choice(ROADS)}{rng.randrange(1, 999)}号")
    if detailed and rng.random() < 0.6:
        parts.append(
            f"{rng.choice(ESTATES)}{rng.randrange(1, 30)}幢{rng.randrange(1, 6)}单元"
            f"{rng.randrange(1, 30)}{rng.randrange(1, 5):02d}室"
        )
    return "".join(parts)


def district_of(addr: str) -> str:
    """The district part of an address made by :func:`address` (for checking generalization)."""
    for province, city, district, _ in DISTRICTS:
        if district in addr and (city in addr or not city):
            return f"{province}{city}{district}" if addr.startswith(province) else city + district
    return ""


def email(rng: random.Random) -> str:
    """An e-mail address."""
    user = rng.choice(PINYIN) + rng.choice(("", ".", "_")) + rng.choice(PINYIN)
    return f"{user}{rng.randrange(1000)}@{rng.choice(EMAIL_DOMAINS)}"


def order_number(rng: random.Random) -> str:
    """A look-alike: a long digit order number that is no card, ID number or phone."""
    while True:
        candidate = f"{rng.choice(('20', '30', '80'))}{rng.randrange(10**16):016d}"
        if not is_luhn_valid(candidate) and not is_valid_id_number(candidate):
            return candidate


def amount(rng: random.Random) -> str:
    """A look-alike: a money amount."""
    return f"{rng.randrange(1, 10**6):,}.{rng.randrange(100):02d}"


@dataclass
class Note:
    """A free-text note and the entities in it (entity, text) as the ground truth."""

    text: str
    entities: list[tuple[str, str]] = field(default_factory=list)


def hotline_complaint_note(rng: random.Random) -> Note:
    """A 12345 hotline record mixing names, identifiers, addresses and look-alikes."""
    name, other = person_name(rng), person_name(rng)
    mobile, idn, addr = formatted_mobile(rng), valid_id_number(rng), address(rng)
    caller = rng.choice(CALLER_WORDS)
    entities = [("PERSON", name), ("CN_MOBILE", mobile), ("ADDRESS", addr)]
    pieces = [
        f"{caller}{name}（联系电话{mobile}）来电反映：",
        f"其居住在{addr}，{rng.choice(ISSUES)}。",
    ]
    kind = rng.randrange(4)
    if kind == 0:
        pieces.append(f"身份证号{idn}，要求尽快处理。")
        entities.append(("CN_ID_CARD", idn))
    elif kind == 1:
        card = valid_bank_card(rng)
        pieces.append(f"退款请转至银行卡{card}，金额{amount(rng)}元。")
        entities.append(("CN_BANK_CARD", card))
    elif kind == 2:
        car, witness = plate(rng), person_name(rng)
        pieces.append(f"涉事车辆车牌{car}，经{witness}核实。")
        entities += [("CN_LICENSE_PLATE", car), ("PERSON", witness)]
    else:
        mail = email(rng)
        pieces.append(f"回复请发邮件至{mail}，工单号{order_number(rng)}。")
        entities.append(("EMAIL_ADDRESS", mail))
    pieces.append(f"订单号{order_number(rng)}，涉及金额{amount(rng)}元，承办人{other}。")
    entities.append(("PERSON", other))
    return Note("".join(pieces), entities)


def hotline_complaint(rng: random.Random) -> str:
    """The text of a 12345 hotline record (see :func:`hotline_complaint_note`)."""
    return hotline_complaint_note(rng).text


def fake_person_row(rng: random.Random) -> dict[str, Any]:
    """One row of a synthetic register: identifiers, quasi-identifiers, look-alikes and a note."""
    province, city, district, area = rng.choice(DISTRICTS)
    born = birth_date(rng)
    idn = valid_id_number(rng, born=born, area_code=area)
    gender = "男" if int(idn[16]) % 2 else "女"
    return {
        "name": person_name(rng),
        "id_number": idn if rng.random() > 0.05 else idn.lower(),
        "gender": gender,
        "birth_date": born.isoformat(),
        "age": dt.date(2026, 1, 1).year - born.year,
        "mobile": formatted_mobile(rng),
        "bank_card": valid_bank_card(rng),
        "email": email(rng),
        "plate": plate(rng),
        "address": f"{province}{city}{district}{rng.choice(ROADS)}{rng.randrange(1, 999)}号",
        "district": district,
        "order_no": order_number(rng),
        "amount": amount(rng),
        "bad_id": invalid_id_number(rng),
        "note": hotline_complaint(rng),
    }


def person_rows(seed: int, n: int) -> Iterator[dict[str, Any]]:
    """``n`` rows of :func:`fake_person_row` from a seeded generator."""
    rng = random.Random(seed)
    for _ in range(n):
        yield fake_person_row(rng)


def enterprise_row(rng: random.Random) -> dict[str, Any]:
    """One row of a synthetic enterprise register (USCC, legal representative, address)."""
    return {
        "uscc": valid_uscc(rng),
        "legal_rep": person_name(rng),
        "phone": valid_mobile(rng),
        "address": address(rng, detailed=False),
        "capital": amount(rng),
    }
