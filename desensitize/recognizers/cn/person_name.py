"""Chinese person name (姓名): a common surname and one or two characters, told apart by context.

Without a language model a name is recognised by what surrounds it: it starts with one of the common
single or double surnames, is preceded by the start of the text, a non-Chinese character or a word
that introduces a person (市民, 投诉人, 经 ...), and is followed by a word that follows a person
(先生, 反映, 称 ...) or by punctuation. The shortest name that fits is taken; common words that
begin with a surname character (金额, 单元) are not names.
"""

from __future__ import annotations

import regex
from presidio_analyzer import Pattern

from desensitize.lexicon import (
    DOUBLE_SURNAMES,
    NAME_STOPS,
    NAME_TRIGGERS,
    NOT_NAMES,
    PLACE_SUFFIXES,
    SINGLE_SURNAMES,
)
from desensitize.recognizers.base import CheckedPatternRecognizer
from desensitize.recognizers.cn.address import cjk_without


def _alternatives(words: tuple[str, ...]) -> str:
    return "|".join(regex.escape(w) for w in sorted(words, key=len, reverse=True))


SURNAME = f"(?:{_alternatives(DOUBLE_SURNAMES)}|[{SINGLE_SURNAMES}])"
# A given name has no character that ends a place's name ("钱塘区", "金城路" are no names).
GIVEN_CHAR = cjk_without(PLACE_SUFFIXES)
GIVEN = GIVEN_CHAR + "{1,2}?"
BEFORE = rf"(?:^|[^\p{{Han}}]|{_alternatives(NAME_TRIGGERS)})"
AFTER = rf"(?:{_alternatives(NAME_STOPS)}|[^\p{{Han}}]|$)"
NAME = SURNAME + GIVEN
NOT_NAME = f"(?!{_alternatives(NOT_NAMES)})"


class ChineseNameRecognizer(CheckedPatternRecognizer):
    """Names such as 王小明, 李四, 欧阳娜娜 in running Chinese text or alone in a cell."""

    ENTITY = "PERSON"
    PATTERNS = (Pattern("name in context", f"(?<={BEFORE}){NOT_NAME}{NAME}(?={AFTER})", 0.6),)
    CONTEXT = ("姓名", "市民", "先生", "女士", "联系人", "投诉人")
