"""Completing the person names the model found, and the names it does not read (Latin script).

The LAC model reads names well but cuts some of them short: a rare compound surname is left out
(东郭欣娟 → 郭欣娟) or read alone (赫连), a name is split in two (钟离 + 若曦), one name of a list
is found and its neighbours not. These functions take the model's ``(start, end)`` spans of one
text and give them back completed by the surnames of the 百家姓 and the shape of the text:

- :func:`completed`: a compound surname before or inside a span makes the span the whole name;
- :func:`listed`: in a list of names (甲、乙和丙) where one is found, the others are names too;
- :func:`titled`: a surname and one or two characters before a title (医生, 警官) is a name, and
  so are three or four characters between a word that introduces a person and a title;
- :func:`after_person_word`: a surname and one or two characters after a word for a person (报案人,
  调解员) or opening a sentence, followed by a word that follows a name;
- :func:`dotted_names`: Chinese characters joined by a middle dot (阿不都热合曼·买买提);
- :func:`latin_names`: capitalised Latin words inside Chinese text (John Smith, Olivia).
"""

from __future__ import annotations

import re

import regex

from desensitize.lexicon import (
    ALL_DOUBLE_SURNAMES,
    ALL_SINGLE_SURNAMES,
    ENGLISH_GIVEN_NAMES,
    NAME_STOPS,
    NAME_TRIGGERS,
    NOT_NAMES,
    ORGANISATION_SUFFIXES,
    PLACE_SUFFIXES,
    TITLES,
    _words,
)

Span = tuple[int, int]
HAN = regex.compile(r"\p{Han}")
DOUBLES = frozenset(ALL_DOUBLE_SURNAMES)
SINGLES = frozenset(ALL_SINGLE_SURNAMES)
NOT_NAME_WORDS = frozenset(NOT_NAMES)
STOPS = tuple(sorted({*NAME_STOPS, *TITLES}, key=len, reverse=True))
NOT_LAST = frozenset(PLACE_SUFFIXES + ORGANISATION_SUFFIXES)


def _alternatives(words: tuple[str, ...] | frozenset[str]) -> str:
    return "|".join(regex.escape(w) for w in sorted(words, key=len, reverse=True))


def _is_han(text: str, at: int) -> bool:
    return 0 <= at < len(text) and HAN.match(text, at) is not None


def _surname_length(name: str) -> int:
    if name[:2] in DOUBLES:
        return 2
    return 1 if name[:1] in SINGLES else 0


def is_surname(text: str) -> bool:
    """Whether ``text`` is a surname of the 百家姓, single or compound."""
    return text in SINGLES or text in DOUBLES


def _given_end(text: str, at: int, given: int) -> int:
    """Where a given name that has ``given`` characters before ``at`` ends: up to two characters
    in all, stopping before a word that follows a name (称, 医生, 、) or a non-Chinese one."""
    while given < 2 and _is_han(text, at) and not text.startswith(STOPS, at):
        at += 1
        given += 1
    return at


TRIGGERS = tuple(sorted(NAME_TRIGGERS, key=len, reverse=True))


# The middle dots that join the parts of a transliterated name (阿不都热合曼·买买提, 约翰·史密斯):
# U+00B7, U+2022, U+30FB and U+2027, as Chinese text writes them.
DOTS = "·•・‧"
# Characters before a transliterated name that are no part of it (他的朋友约翰·史密斯).
BEFORE_NAME = frozenset("的了是在和与及给向对把被让请叫找跟同由据经称为将从到见")
MAX_NAME_PART = 6  # characters of the part before the first dot (阿不都热合曼)


def _dotted(text: str, start: int, end: int) -> Span:
    """A transliterated name grown over the middle dot next to it (买提·艾力 → 买买提·艾力): back
    to a word that introduces a person or a word that is no part of a name, at most six
    characters before the first dot, and on to a word that follows a name."""
    inside = any(dot in text[start:end] for dot in DOTS)
    if not inside and text[end : end + 1] not in DOTS and text[start - 1 : start] not in DOTS:
        return start, end
    first_dot = min((i for i in range(start - 1, end + 1) if text[i : i + 1] in DOTS), default=end)
    while (
        start
        and _is_han(text, start - 1)
        and text[start - 1] not in BEFORE_NAME
        and not text.endswith(TRIGGERS, 0, start)
        and first_dot - start < MAX_NAME_PART
    ):
        start -= 1
        if start and text[start - 1] in DOTS:
            start -= 1
    while end < len(text) and (
        (text[end] in DOTS and _is_han(text, end + 1)) or _is_han(text, end)
    ):
        if text.startswith(STOPS, end):
            break
        end += 1
    return start, end


DOTTED = regex.compile(rf"(?<=\p{{Han}})[{DOTS}](?=\p{{Han}})")


def dotted_names(text: str) -> list[Span]:
    """Transliterated names written with a middle dot between Chinese characters (阿不都热合曼·
    买买提, 玛丽亚·加西亚), whether or not the model read them; not when a part ends like a place
    or an organisation (会议中心·西厅)."""
    out: list[Span] = []
    for m in DOTTED.finditer(text):
        if out and m.start() < out[-1][1]:
            continue
        start, end = _dotted(text, m.start() - 1, m.end() + 1)
        if all(part[-1] not in NOT_LAST for part in regex.split(f"[{DOTS}]", text[start:end])):
            out.append((start, end))
    return out


# Characters that spell Uyghur, Tibetan, Mongolian and foreign names in Chinese (阿不都热依木,
# 格桑卓玛, 巴特尔); the model sometimes reads only the first syllables of such a name.
TRANSLITERATION = frozenset(
    "阿不都热依木买提艾力古丽娜尔合曼吐逊扎西多吉格桑卓玛次仁央金达瓦巴特乌兰托娅布赫图孜克拉汗"
    "江帕米沙迪努麦尼亚斯穆罕默德伊莎贝约翰史密乔治罗伯森杰卡琳黛萨奥洛夫"
)
MAX_TRANSLITERATED = 8
LONG_STOPS = tuple(w for w in STOPS if len(w) > 1)  # 都 is a syllable here (阿不都热依木)


def _transliterated(text: str, start: int, end: int) -> int:
    """Where a transliterated name the model read in part ends (阿不 → 阿不都热依木)."""
    if end - start < 2 or not all(c in TRANSLITERATION for c in text[start:end]):
        return end
    while (
        end - start < MAX_TRANSLITERATED
        and text[end : end + 1] in TRANSLITERATION
        and not text.startswith(LONG_STOPS, end)
    ):
        end += 1
    return end


def completed(text: str, start: int, end: int) -> Span:
    """The whole name of which the model found ``text[start:end]``."""
    start, end = _dotted(text, start, end)
    end = _transliterated(text, start, end)
    if text[max(0, start - 2) : start] in DOUBLES and _surname_length(text[start:end]) < 2:
        start -= 2  # 濮阳 + 浩梓
    elif start and text[start - 1 : start + 1] in DOUBLES:
        start -= 1  # 东 + 郭欣娟
    name = text[start:end]
    surname = _surname_length(name)
    if surname == 2 and len(name) < 4:  # 赫连 (+ 静鸣), 澹台雯 (+ 雨)
        end = _given_end(text, end, len(name) - 2)
    elif surname == 1 and len(name) == 1:  # 谌 (+ 清清)
        end = _given_end(text, end, 0)
    return start, end


def is_listed_name(name: str) -> bool:
    """Whether an item of a list can be a name: two to four Chinese characters (or a
    transliterated name with a middle dot), no common word, no place or organisation."""
    if any(dot in name for dot in DOTS):
        return 3 <= len(name) <= 12
    return 2 <= len(name) <= 4 and name not in NOT_NAME_WORDS and name[-1] not in NOT_LAST


LIST = regex.compile(rf"[\p{{Han}}{DOTS}]+(?:、[\p{{Han}}{DOTS}]+)+")
CONNECTIVE = regex.compile("[和及与]")


def _first_item(text: str, start: int, end: int, found: list[Span]) -> Span | None:
    """The first name of a list, which ends at ``end``; ``text[start:end]`` may begin with other
    words (参加调解的有濮阳浩梓)."""
    for s, e in found:
        if e == end and s >= start:
            return s, e
    if (start == 0 or not _is_han(text, start - 1)) and end - start <= 4:
        return start, end
    for length in (4, 3, 2):
        at = end - length
        if (
            at >= start
            and _surname_length(text[at:end])
            and (length < 4 or text[at : at + 2] in DOUBLES)
        ):
            return at, end
    return None


def _last_item(text: str, start: int, end: int, found: list[Span]) -> Span | None:
    """The last name of a list, which starts at ``start``; words may follow it (揭思等人到场)."""
    for s, e in found:
        if s == start and e <= end:
            return s, e
    for length in (2, 3, 4):
        at = start + length
        if at > end:
            break
        if at == end or text.startswith(STOPS, at):
            return start, at
    return None


def listed(text: str, found: list[Span]) -> list[Span]:
    """Names in lists (甲、乙和丙) where the model found at least one of them."""
    out: list[Span] = []
    for m in LIST.finditer(text):
        if not any(s < m.end() and m.start() < e for s, e in found):
            continue
        bounds = []  # (start, end) of the stretches between the separators
        at = m.start()
        for piece in m.group().split("、"):
            bounds.append((at, at + len(piece)))
            at += len(piece) + 1
        last_start, last_end = bounds[-1]
        tail = CONNECTIVE.search(text, last_start + 2, min(last_end, last_start + 5))
        if tail:  # 乙和丙: the last stretch holds two names
            bounds[-1] = (last_start, tail.start())
            bounds.append((tail.end(), last_end))
        items = [_first_item(text, *bounds[0], found)]
        items += [b if b[1] - b[0] else None for b in bounds[1:-1]]
        items.append(_last_item(text, *bounds[-1], found))
        names = [i for i in items if i is not None and is_listed_name(text[i[0] : i[1]])]
        if any(s < e2 and s2 < e for s, e in names for s2, e2 in found):
            out += names
    return out


TITLED = regex.compile(
    rf"(?<=^|[^\p{{Han}}]|{_alternatives(tuple(NAME_TRIGGERS))})"
    rf"(?:{_alternatives(DOUBLES)}|[{ALL_SINGLE_SURNAMES}])\p{{Han}}{{1,2}}?"
    rf"(?={_alternatives(TITLES)})"
)


# Three or four characters between a word that introduces a person and a title (经格桑卓玛警官),
# unless they begin with a word that is no part of a name (投诉人称保安队长, 在学校被同学).
TITLED_ANY = regex.compile(
    rf"(?<=(?:^|[^\p{{Han}}]){_alternatives(tuple(NAME_TRIGGERS))})"
    rf"\p{{Han}}{{3,4}}?(?={_alternatives(TITLES)})"
)


TITLE_WORD = re.compile("|".join(TITLES))
# Words for a person that begin with a surname character (车主, 房主) and are no names.
ROLE_WORDS = (
    "车主",
    "店主",
    "房主",
    "船主",
    "雇主",
    "货主",
    "失主",
    "事主",
    "师生",
    "双方",
    "公民",
)
PERSON_WORDS = frozenset((*NAME_TRIGGERS, *TITLES, *ROLE_WORDS))


def _name_like(name: str) -> bool:
    """No common word, no word for a person (居民, 医生), no place or organisation."""
    return name not in NOT_NAME_WORDS and name not in PERSON_WORDS and name[-1] not in NOT_LAST


def titled(text: str) -> list[Span]:
    """A surname and one or two characters right before a title (据曾若队长, 揭远医生)."""
    if not TITLE_WORD.search(text):
        return []
    spans = [m.span() for m in TITLED.finditer(text) if _name_like(m.group())]
    spans += [
        m.span()
        for m in TITLED_ANY.finditer(text)
        if _name_like(m.group())
        and m.group()[0] not in BEFORE_NAME
        and not m.group().startswith(STOPS)
    ]
    return spans


# Surnames of the 百家姓 that are also common function words (于, 和, 向 …): not at the start of
# a name that only its context marks.
FUNCTION_SURNAMES = "于和向时从经将能通相后空那乐计干全元双公家水花山云查东国平"
OPEN_SURNAME = f"(?:{_alternatives(DOUBLES)}|[{''.join(c for c in ALL_SINGLE_SURNAMES if c not in FUNCTION_SURNAMES)}])"
WORD_STOPS = tuple(w for w in STOPS if _is_han(w, 0) and w not in TITLES)
# Where such a name may start: after a word for a person that ends in 人/员/者 (报案人, 调解员,
# 患者), with a colon or a space between or not; after 据, 由, 经 or 被 (据X反映, 由X负责); or
# at the start of a sentence.
PERSON_WORD_END = re.compile(r"[人员者][：: ]?|[据由经被]|[。！？；\n]")
OPEN_NAME = regex.compile(
    rf"{OPEN_SURNAME}\p{{Han}}{{1,2}}?(?={_alternatives(WORD_STOPS)}|[，。；：、！？\s]|$)"
)


OPENING_STOPS = tuple(w for w in WORD_STOPS if w != "的")


def _opens_a_sentence(text: str, start: int, end: int) -> bool:
    """A name opening a sentence is told apart from a noun (牛奶已过期) by its length: a compound
    surname, or a surname and two characters, and a word after it (濮阳振佑于, 揭远振称), not
    the possessive 的 nor a comma."""
    long_enough = end - start == 3 or text[start : start + 2] in DOUBLES
    return long_enough and text.startswith(OPENING_STOPS, end)


def after_person_word(text: str) -> list[Span]:
    """A name after a word for a person (报案人揭敏在…) or opening a sentence (濮阳振佑于昨日…),
    told by a word that follows a name: a surname of the 百家姓 that is no function word."""
    out: list[Span] = []
    starts = [(0, True)] + [
        (m.end(), m.group() in "。！？；\n") for m in PERSON_WORD_END.finditer(text)
    ]
    for at, opening in starts:
        m = OPEN_NAME.match(text, at)
        if m is None or (out and at < out[-1][1]):
            continue
        if opening and not _opens_a_sentence(text, m.start(), m.end()):
            continue
        if _name_like(m.group()):
            out.append(m.span())
    return out


WORD = r"\p{Lu}(?:['’]\p{Lu})?\p{Ll}+"
LATIN = regex.compile(rf"(?<![\p{{Latin}}])({WORD}(?:[ ·-]{WORD}){{0,3}})(?![\p{{Latin}}])")
# Capitalised words that name no person (places, organisations, months, brands).
NOT_PERSON_WORDS = frozenset(
    _words(
        "Street Road Avenue Lane District City County Province Park Plaza Square Building Tower"
        " Center Centre Mall Hotel Hospital Clinic University College School Bank Group Company"
        " Inc Ltd Co Corp Limited Airport Station Port Bridge River Lake Mountain China Beijing"
        " Shanghai Hangzhou Shenzhen Guangzhou Hong Kong Macau Taiwan The Of And For In On At By"
        " January February March April May June July August September October November December"
        " Monday Tuesday Wednesday Thursday Friday Saturday Sunday Apple Google Microsoft Huawei"
        " Alipay Wechat WeChat Taobao Excel Word Windows Android iPhone Email Mr Mrs Ms Dr"
    )
)


def latin_names(text: str) -> list[Span]:
    """English (and other Latin-script) names inside Chinese text: two to four capitalised words
    (John Smith, Anna Müller), or one that is a common given name (Olivia). Only in text with
    Chinese in it; words of places and organisations are no names."""
    if not HAN.search(text):
        return []
    found = []
    for m in LATIN.finditer(text):
        words = regex.split(r"[ ·-]", m.group(1))
        if any(w in NOT_PERSON_WORDS for w in words):
            continue
        if len(words) >= 2 or words[0] in ENGLISH_GIVEN_NAMES:
            found.append(m.span(1))
    return found
