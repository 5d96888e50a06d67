"""Chinese street address (地址): administrative units down to the road and house number.

An address ends in a road (路/街/巷/弄/胡同/村) and a house number (号), optionally followed
by a building, unit and room; province (省), city (市/州/盟), district (区/县/旗) and town
(镇/乡/街道) may come before. Characters such as 在/住/于 never belong to an address, so
"居住在" stays outside it.
"""

from __future__ import annotations

from presidio_analyzer import Pattern

from desensitize.lexicon import PROVINCES
from desensitize.recognizers.base import CheckedPatternRecognizer

# A Chinese character that can be part of a place name (estate and building names take any).
# Written as explicit ranges, which both Python's and polars' regex engines run fast.
NOT_PLACE = "在住的是其我他她址为至到往寄送将把去"


def _cjk_without(excluded: str) -> str:
    ranges, start = [], 0x4E00
    for cp in sorted(map(ord, excluded)):
        ranges.append(f"{chr(start)}-{chr(cp - 1)}")
        start = cp + 1
    ranges.append(f"{chr(start)}-\u9fff")
    return "[" + "".join(ranges) + "]"


PLACE_CHAR = _cjk_without(NOT_PLACE)
ANY_CHAR = "[\u4e00-\u9fff]"
DIGIT = "[0-9０-９]"
PROVINCE = "(?:" + "|".join(PROVINCES) + r")(?:省|市|壮族自治区|回族自治区|维吾尔自治区|自治区)?"
# "鄞州区" is one unit, not "鄞州" and a stray "区".
ADMIN_SUFFIX = "(?:省|自治区|自治州|地区|[市州盟区县旗][市区县旗]?)"
UNIT = f"(?:{PROVINCE}|{PLACE_CHAR}{{1,6}}?(?:{ADMIN_SUFFIX}|街道|镇|乡))"
ROAD = PLACE_CHAR + "{1,6}?(?:大道|大街|路|街|巷|弄|胡同|村)"
HOUSE = DIGIT + "{1,5}(?:-" + DIGIT + "{1,4})?号"
FLAT = (
    f"(?:{ANY_CHAR}{{0,8}}?{DIGIT}{{1,3}}(?:号楼|幢|栋|座))?"
    f"(?:{DIGIT}{{1,2}}单元)?(?:{DIGIT}{{1,5}}室)?"
)
ADDRESS = f"{UNIT}{{0,6}}{ROAD}{HOUSE}{FLAT}"
# The administrative units at the start of an address (down to the district), kept when an
# address is generalized.
ADMIN_PREFIX = f"^((?:{PROVINCE}|{PLACE_CHAR}{{1,6}}?{ADMIN_SUFFIX}){{1,4}})"


class ChineseAddressRecognizer(CheckedPatternRecognizer):
    """Street addresses with a house number, in text or in an address column."""

    ENTITY = "ADDRESS"
    PATTERNS = (Pattern("street address", ADDRESS, 0.6),)
    CONTEXT = ("地址", "住址", "居住", "现住", "户籍地")
