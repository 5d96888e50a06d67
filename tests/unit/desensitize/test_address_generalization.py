"""Addresses generalized to the district: the polars rule and the literal one, on tricky names."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desensitize.recognizers.cn.address import district_prefix
from desensitize.transforms import address_to_district

CASES = [
    # the road starts with a unit character (市, 区, 县, 州): it never joins the district
    ("浙江省杭州市上城区市心路386号", "浙江省杭州市上城区"),
    ("浙江省杭州市上城区区府路5号", "浙江省杭州市上城区"),
    ("浙江省绍兴市越城区县前街8号", "浙江省绍兴市越城区"),
    ("浙江省杭州市上城区市民街1号3幢", "浙江省杭州市上城区"),
    ("浙江省杭州市市府路1号", "浙江省杭州市"),
    ("杭州市上城区东站市场路1号", "杭州市上城区"),
    ("浙江省杭州市上城区州府路1号", "浙江省杭州市上城区"),
    # names holding a unit character
    ("浙江省宁波市鄞州区学院路7号", "浙江省宁波市鄞州区"),
    ("北京市通州区新华大街1号", "北京市通州区"),
    ("湖北省荆州市沙市区北京中路1号", "湖北省荆州市沙市区"),
    ("山东省济南市市中区经七路3号", "山东省济南市市中区"),
    # county-level cities, prefectures, leagues, banners, autonomous units
    ("浙江省金华市义乌市稠州北路1号", "浙江省金华市义乌市"),
    ("浙江省温州市瑞安市安阳路2号", "浙江省温州市瑞安市"),
    ("湖州市安吉县城关镇人民路5号", "湖州市安吉县"),
    ("北京市朝阳区建国路1号", "北京市朝阳区"),
    ("上海市浦东新区世纪大道1号", "上海市浦东新区"),
    ("广西壮族自治区南宁市青秀区民族大道1号", "广西壮族自治区南宁市青秀区"),
    ("内蒙古自治区锡林郭勒盟锡林浩特市额尔敦路1号", "内蒙古自治区锡林郭勒盟锡林浩特市"),
    ("吉林省延边朝鲜族自治州延吉市光明街1号", "吉林省延边朝鲜族自治州延吉市"),
    ("黑龙江省大兴安岭地区漠河市西林吉路1号", "黑龙江省大兴安岭地区漠河市"),
    ("湖北省宜昌市长阳土家族自治县龙舟大道1号", "湖北省宜昌市长阳土家族自治县"),
    ("内蒙古自治区兴安盟科尔沁右翼前旗兴安路1号", "内蒙古自治区兴安盟科尔沁右翼前旗"),
    # only units, spaces around, nothing administrative
    ("浙江省杭州市西湖区", "浙江省杭州市西湖区"),
    ("  浙江省杭州市西湖区 ", "浙江省杭州市西湖区"),
    ("中山路1号", None),
    ("不是地址", None),
    ("", None),
]


def _polars(values: list[str | None]) -> list[str | None]:
    frame = pl.LazyFrame({"a": values}, schema={"a": pl.String})
    return address_to_district(frame, "a").collect().get_column("a").to_list()


@pytest.mark.parametrize(("address", "district"), CASES)
def test_address_generalizes_to_its_district(address: str, district: str | None) -> None:
    assert district_prefix(address) == district
    assert _polars([address]) == [district]


def test_null_stays_null() -> None:
    assert _polars([None]) == [None]


# Administrative units (each list one level) and road names for the property below; the names
# include the awkward ones (unit characters inside, 7-character names, 盟 and 旗).
PROVINCES = ["浙江省", "北京市", "广西壮族自治区", "内蒙古自治区", "湖北省", "黑龙江省"]
CITIES = ["杭州市", "宁波市", "荆州市", "济南市", "锡林郭勒盟", "延边朝鲜族自治州", "大兴安岭地区"]
DISTRICTS = [
    "上城区",
    "鄞州区",
    "通州区",
    "沙市区",
    "市中区",
    "浦东新区",
    "义乌市",
    "安吉县",
    "科尔沁右翼前旗",
    "长阳土家族自治县",
]
# A road may start with any character, unit characters included; the rest of its name holds
# none (a road name such as 东站市场路 right after a city, with no district, stays ambiguous).
ROAD_FIRST = "市区县旗州省盟心府前东西南北中人民解放新华"
ROAD_REST = "心府前东西南北中人民解放新华文三学院凤起延安建国光明"


@settings(deadline=None, max_examples=400)
@given(
    province=st.sampled_from(["", *PROVINCES]),
    city=st.sampled_from(["", *CITIES]),
    district=st.sampled_from(["", *DISTRICTS]),
    first=st.sampled_from(ROAD_FIRST),
    rest=st.text(alphabet=ROAD_REST, min_size=0, max_size=4),
    road=st.sampled_from(["路", "街", "大道", "巷"]),
    number=st.integers(min_value=1, max_value=9999),
    flat=st.sampled_from(["", "3幢2单元301室", "市民中心"]),
)
def test_generalized_address_ends_at_a_unit_boundary(
    province: str,
    city: str,
    district: str,
    first: str,
    rest: str,
    road: str,
    number: int,
    flat: str,
) -> None:
    """The generalized address is exactly its administrative units: never part of the road (so
    never a bare 市 that starts a street name), never a unit cut in two."""
    admin = province + city + district
    address = f"{admin}{first}{rest}{road}{number}号{flat}"
    expected = admin or None
    assert district_prefix(address) == expected
    assert _polars([address]) == [district_prefix(address)]
