"""The EU controlled vocabularies the catalog speaks in DCAT-AP, with Chinese and English labels.

Owners write themes and frequencies as they are used in Chinese catalogs (经济建设, 每月); DCAT-AP
wants the EU Publications Office authority tables (data-theme, frequency, licence, file-type,
access-right). Each table maps the platform's value to the authority code and both labels.
"""

from __future__ import annotations

from dataclasses import dataclass

AUTHORITY = "http://publications.europa.eu/resource/authority/"


@dataclass(frozen=True)
class Term:
    """One concept of an authority table, with its labels in both languages."""

    scheme: str  # data-theme, frequency, licence, file-type, access-right
    code: str
    zh: str
    en: str

    @property
    def iri(self) -> str:
        return f"{AUTHORITY}{self.scheme}/{self.code}"

    @property
    def scheme_iri(self) -> str:
        return f"{AUTHORITY}{self.scheme}"

    def label(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


def _table(scheme: str, rows: list[tuple[str, str, str]]) -> dict[str, Term]:
    return {code: Term(scheme, code, zh, en) for code, zh, en in rows}


THEMES = _table(
    "data-theme",
    [
        ("AGRI", "农业、渔业、林业和食品", "Agriculture, fisheries, forestry and food"),
        ("ECON", "经济和金融", "Economy and finance"),
        ("EDUC", "教育、文化和体育", "Education, culture and sport"),
        ("ENER", "能源", "Energy"),
        ("ENVI", "环境", "Environment"),
        ("GOVE", "政府和公共部门", "Government and public sector"),
        ("HEAL", "卫生健康", "Health"),
        ("INTR", "国际事务", "International issues"),
        ("JUST", "司法、法律和公共安全", "Justice, legal system and public safety"),
        ("REGI", "地区和城市", "Regions and cities"),
        ("SOCI", "人口和社会", "Population and society"),
        ("TECH", "科学技术", "Science and technology"),
        ("TRAN", "交通运输", "Transport"),
    ],
)
# the themes of Chinese open-data catalogs (the 一本账 classification) and the EU theme of each
THEME_OF = {
    "经济建设": "ECON",
    "财税金融": "ECON",
    "市场监管": "ECON",
    "城市治理": "GOVE",
    "机构团体": "GOVE",
    "社会保障": "SOCI",
    "民生服务": "SOCI",
    "劳动就业": "SOCI",
    "公共安全": "JUST",
    "法律服务": "JUST",
    "教育文化": "EDUC",
    "文化休闲": "EDUC",
    "医疗卫生": "HEAL",
    "卫生健康": "HEAL",
    "资源环境": "ENVI",
    "生态环境": "ENVI",
    "交通运输": "TRAN",
    "道路交通": "TRAN",
    "农业农村": "AGRI",
    "科技创新": "TECH",
    "能源": "ENER",
    "城建住房": "REGI",
}

FREQUENCIES = _table(
    "frequency",
    [
        ("CONT", "实时", "continuous"),
        ("DAILY", "每日", "daily"),
        ("WEEKLY", "每周", "weekly"),
        ("MONTHLY", "每月", "monthly"),
        ("QUARTERLY", "每季度", "quarterly"),
        ("BIANNUAL", "每半年", "semiannual"),
        ("ANNUAL", "每年", "annual"),
        ("IRREG", "不定期", "irregular"),
        ("NEVER", "不更新", "never"),
    ],
)
FREQUENCY_OF = {term.zh: code for code, term in FREQUENCIES.items()} | {
    "每天": "DAILY",
    "每季": "QUARTERLY",
    "每年一次": "ANNUAL",
}

LICENCES = _table(
    "licence",
    [
        ("CC_BY_4_0", "知识共享署名 4.0", "Creative Commons Attribution 4.0"),
        ("CC0", "知识共享零", "Creative Commons CC0 1.0"),
        ("CC_BYSA_4_0", "知识共享署名-相同方式共享 4.0", "Creative Commons BY-SA 4.0"),
    ],
)
LICENCE_OF = {"CC-BY-4.0": "CC_BY_4_0", "CC BY 4.0": "CC_BY_4_0", "CC0-1.0": "CC0", "CC0": "CC0"}
DEFAULT_LICENCE = "CC_BY_4_0"

FILE_TYPES = _table(
    "file-type",
    [
        ("PARQUET", "Parquet", "Parquet"),
        ("JSON_LD", "JSON-LD", "JSON-LD"),
        ("JSON", "JSON", "JSON"),
        ("HTML", "网页", "HTML"),
        ("CSV", "CSV", "CSV"),
    ],
)

ACCESS_RIGHTS = _table(
    "access-right",
    [
        ("PUBLIC", "无条件开放", "public"),
        ("RESTRICTED", "受限开放", "restricted"),
        ("NON_PUBLIC", "禁止开放", "non-public"),
    ],
)


def theme(value: str) -> Term | None:
    """The EU data theme of a catalog theme (a Chinese name or an EU code), if known."""
    code = THEME_OF.get(value.strip(), value.strip().upper())
    return THEMES.get(code)


def frequency(value: str) -> Term | None:
    code = FREQUENCY_OF.get(value.strip(), value.strip().upper())
    return FREQUENCIES.get(code)


def licence(value: str) -> Term | None:
    """The dataset's licence: CC BY 4.0 when none is named, None when it is not in the table."""
    code = LICENCE_OF.get(value.strip(), value.strip().upper() or DEFAULT_LICENCE)
    return LICENCES.get(code)
