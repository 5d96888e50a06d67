"""Chinese street address (地址): administrative units down to the road and house number.

An address ends in a road (路/街/巷/弄/胡同/村) and a house number (号), optionally followed
by a building, unit and room; province (省), city (市/州/盟), district (区/县/旗) and town
(镇/乡/街道) may come before. Characters such as 在/住/于 never belong to an address, so
"居住在" stays outside it.
"""

from __future__ import annotations

import re

from presidio_analyzer import Pattern

from desensitize.lexicon import PROVINCES
from desensitize.recognizers.base import CheckedPatternRecognizer

# A Chinese character that can be part of a place name (estate and building names take any).
# Written as explicit ranges, which both Python's and polars' regex engines run fast.
NOT_PLACE = "在住的是其我他她址为至到往寄送将把去"


def cjk_without(excluded: str) -> str:
    ranges, start = [], 0x4E00
    for cp in sorted(map(ord, excluded)):
        ranges.append(f"{chr(start)}-{chr(cp - 1)}")
        start = cp + 1
    ranges.append(f"{chr(start)}-\u9fff")
    return "[" + "".join(ranges) + "]"


PLACE_CHAR = cjk_without(NOT_PLACE)
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

# ---- generalization to the district -----------------------------------------------------------
# The administrative units at the start of an address, down to the district, are kept when an
# address is generalized. The units go down a hierarchy: province (省, 自治区, a municipality),
# prefecture (市, 自治州, 地区, 盟) or county-level city (市), then at most one district, county or
# banner (区, 县, 旗), after which the road begins. A unit's name holds no unit character except
# 州 (鄞州区, 杭州市), so "上城区市心路" is 上城区 and a road 市心路, never a unit "上城区市".
UNIT_CHARS = "省市区县旗盟"
UNIT_NAME = cjk_without(NOT_PLACE + UNIT_CHARS) + "{1,7}?"
# The few districts whose name holds 市 (沙市区 in 荆州, 市中区 in 济南 and elsewhere).
NAMED_WITH_CITY_CHAR = ("沙市区", "市中区")
HIGHER_UNIT = (
    f"(?:{PROVINCE}|{'|'.join(NAMED_WITH_CITY_CHAR)}|{UNIT_NAME}(?:省|自治区|自治州|地区|[市盟]))"
)
DISTRICT_UNIT = f"{UNIT_NAME}[区县旗]"
ADMIN_PREFIX = f"^((?:{HIGHER_UNIT}){{0,3}}(?:{DISTRICT_UNIT})?)"
_ADMIN_PREFIX = re.compile(ADMIN_PREFIX)


def district_prefix(address: str) -> str | None:
    """The administrative units at the start of ``address`` down to the district (``None`` if it
    starts with none): the literal form of :func:`desensitize.transforms.address_to_district`."""
    found = _ADMIN_PREFIX.match(address.strip())
    return found.group(1) if found and found.group(1) else None


class ChineseAddressRecognizer(CheckedPatternRecognizer):
    """Street addresses with a house number, in text or in an address column."""

    ENTITY = "ADDRESS"
    PATTERNS = (Pattern("street address", ADDRESS, 0.6),)
    CONTEXT = ("地址", "住址", "居住", "现住", "户籍地")
