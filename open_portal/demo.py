"""Demo accounts and demo data, generated locally at first start (nothing is downloaded).

Four synthetic datasets, one per level, with Chinese personal data where real public data would
have it and valid check digits where the real identifiers have them.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from collections.abc import Callable
from typing import Any

import polars as pl
from sqlalchemy import select

from desensitize import synthetic as fake
from open_portal.models import Dataset, Level
from open_portal.schemas import ColumnMeta, DatasetMeta
from open_portal.service import catalog, users
from open_portal.service.context import Portal

DEMO_ACCOUNTS: dict[str, tuple[str, str]] = {
    # name: (role, display name)
    "researcher": ("researcher", "研究人员 Researcher"),
    "operator": ("operator", "授权运营单位 Operator"),
    "owner": ("owner", "数据提供方 Data owner"),
    "officer": ("officer", "安全审核员 Security officer"),
    "officer2": ("officer", "安全审核员二 Second officer"),
    "admin": ("admin", "平台管理员 Admin"),
}
DEMO_DEPARTMENTS = ("market", "hotline", "hrss", "traffic")

DISTRICTS = ["上城区", "拱墅区", "西湖区", "滨江区", "萧山区", "余杭区", "临平区", "钱塘区"]
INDUSTRIES = [
    "批发和零售业",
    "制造业",
    "信息技术服务业",
    "住宿和餐饮业",
    "建筑业",
    "租赁和商务服务业",
]
CATEGORIES = ["噪声扰民", "物业管理", "交通出行", "市场监管", "环境保护", "劳动保障", "城市管理"]
INSURANCE = ["养老保险", "医疗保险", "失业保险", "工伤保险"]
MONTHS = [f"2026-{m:02d}" for m in range(1, 13)]
VIOLATIONS = [
    ("超速行驶", 200, 3),
    ("闯红灯", 200, 6),
    ("违法停车", 150, 0),
    ("未系安全带", 50, 1),
    ("逆行", 200, 3),
]


def enterprise_registrations(rng: random.Random, n: int) -> pl.DataFrame:
    rows = []
    for i in range(n):
        base = fake.enterprise_row(rng)
        rows.append(
            {
                "uscc": base["uscc"],
                "company_name": f"杭州{rng.choice(['数智', '云帆', '禾丰', '启明', '恒信', '绿源'])}{rng.choice(['科技', '贸易', '餐饮', '建设'])}有限公司{i:04d}",
                "legal_representative": base["legal_rep"],
                "contact_phone": base["phone"],
                "district": rng.choice(DISTRICTS),
                "industry": rng.choice(INDUSTRIES),
                "registered_capital_wan": round(rng.lognormvariate(5, 1.2), 1),
                "established": (
                    dt.date(2000, 1, 1) + dt.timedelta(days=rng.randrange(9000))
                ).isoformat(),
            }
        )
    return pl.DataFrame(rows)


def hotline_tickets(rng: random.Random, n: int) -> pl.DataFrame:
    rows = []
    for i in range(n):
        person = fake.fake_person_row(rng)
        received = dt.datetime(2026, 1, 1) + dt.timedelta(minutes=rng.randrange(60 * 24 * 300))
        rows.append(
            {
                "ticket_no": f"ZJ12345-2026{i:07d}",
                "received_at": received.isoformat(timespec="minutes"),
                "caller_name": person["name"],
                "caller_mobile": person["mobile"],
                "caller_id_number": person["id_number"],
                "district": rng.choice(DISTRICTS),
                "category": rng.choice(CATEGORIES),
                "content": person["note"],
                "handled": rng.random() < 0.9,
            }
        )
    return pl.DataFrame(rows)


def social_insurance_payments(rng: random.Random, n_people: int) -> pl.DataFrame:
    rows = []
    for _ in range(n_people):
        person = fake.fake_person_row(rng)
        district = rng.choice(DISTRICTS)
        base = round(rng.uniform(4000, 30000), 2)
        kind = rng.choice(INSURANCE)
        for month in rng.sample(MONTHS, rng.randint(1, 6)):
            rows.append(
                {
                    "id_number": person["id_number"],
                    "name": person["name"],
                    "district": district,
                    "month": month,
                    "insurance_type": kind,
                    "contribution_base": base,
                    "payment": round(base * rng.choice([0.08, 0.02, 0.005]), 2),
                    "age": person["age"],
                }
            )
    return pl.DataFrame(rows)


def traffic_violations(rng: random.Random, n: int) -> pl.DataFrame:
    rows = []
    for _ in range(n):
        person = fake.fake_person_row(rng)
        violation, fine, points = rng.choice(VIOLATIONS)
        rows.append(
            {
                "plate": person["plate"],
                "driver_name": person["name"],
                "driver_id_number": person["id_number"],
                "driver_mobile": person["mobile"],
                "occurred_at": (
                    dt.datetime(2026, 1, 1) + dt.timedelta(minutes=rng.randrange(400000))
                ).isoformat(timespec="minutes"),
                "location": person["address"],
                "violation": violation,
                "fine_yuan": fine,
                "points": points,
            }
        )
    return pl.DataFrame(rows)


def _columns(descriptions: dict[str, tuple[str, str]]) -> list[ColumnMeta]:
    return [
        ColumnMeta(name=k, description_zh=zh, description_en=en)
        for k, (zh, en) in descriptions.items()
    ]


DEMO_DATASETS: list[tuple[DatasetMeta, Callable[[random.Random], pl.DataFrame]]] = [
    (
        DatasetMeta(
            id="enterprise-registrations",
            title_zh="企业登记信息",
            title_en="Business registrations",
            description_zh="市场主体登记信息，含统一社会信用代码、法定代表人、行业与注册资本。",
            description_en="Registered businesses with their unified social credit code, legal representative, industry and capital.",
            publisher="market",
            publisher_name_zh="市场监督管理局",
            publisher_name_en="Market Regulation Bureau",
            keywords=["企业", "登记", "信用代码"],
            theme="经济建设",
            temporal_coverage="2000/2026",
            spatial_coverage="杭州市",
            update_frequency="每月",
            contact="open-data@market.example.gov.cn",
            level=Level.L1,
            columns=_columns(
                {
                    "uscc": ("统一社会信用代码", "Unified social credit code"),
                    "company_name": ("企业名称", "Company name"),
                    "legal_representative": ("法定代表人", "Legal representative"),
                    "contact_phone": ("联系电话", "Contact phone"),
                    "district": ("所在区", "District"),
                    "industry": ("行业", "Industry"),
                    "registered_capital_wan": ("注册资本（万元）", "Registered capital (10k yuan)"),
                    "established": ("成立日期", "Date established"),
                }
            ),
        ),
        lambda rng: enterprise_registrations(rng, 2000),
    ),
    (
        DatasetMeta(
            id="hotline-tickets",
            title_zh="12345 政务服务热线工单",
            title_en="12345 government hotline tickets",
            description_zh="市民来电工单，含来电人信息与诉求内容（自由文本）。",
            description_en="Citizen hotline tickets with caller details and the complaint text (free text).",
            publisher="hotline",
            publisher_name_zh="12345 政务服务热线",
            publisher_name_en="12345 Government Service Hotline",
            keywords=["12345", "热线", "诉求"],
            theme="城市治理",
            temporal_coverage="2026",
            spatial_coverage="杭州市",
            update_frequency="每日",
            contact="data@12345.example.gov.cn",
            level=Level.L2,
            columns=_columns(
                {
                    "ticket_no": ("工单号", "Ticket number"),
                    "received_at": ("受理时间", "Received at"),
                    "caller_name": ("来电人姓名", "Caller name"),
                    "caller_mobile": ("来电号码", "Caller mobile"),
                    "caller_id_number": ("来电人身份证号", "Caller ID number"),
                    "district": ("所在区", "District"),
                    "category": ("诉求类别", "Category"),
                    "content": ("诉求内容", "Complaint text"),
                    "handled": ("是否办结", "Handled"),
                }
            ),
        ),
        lambda rng: hotline_tickets(rng, 3000),
    ),
    (
        DatasetMeta(
            id="social-insurance-payments",
            title_zh="社会保险缴费记录",
            title_en="Social insurance payments",
            description_zh="个人社会保险月度缴费记录，仅提供差分隐私统计。",
            description_en="Monthly social-insurance payments per person; only differentially private aggregates.",
            publisher="hrss",
            publisher_name_zh="人力资源和社会保障局",
            publisher_name_en="Human Resources and Social Security Bureau",
            keywords=["社保", "缴费"],
            theme="社会保障",
            temporal_coverage="2026",
            spatial_coverage="杭州市",
            update_frequency="每月",
            contact="data@hrss.example.gov.cn",
            level=Level.L3,
            columns=_columns(
                {
                    "id_number": ("身份证号", "ID number"),
                    "name": ("姓名", "Name"),
                    "district": ("参保地", "District"),
                    "month": ("缴费月份", "Month"),
                    "insurance_type": ("险种", "Insurance type"),
                    "contribution_base": ("缴费基数", "Contribution base"),
                    "payment": ("个人缴费额", "Personal payment"),
                    "age": ("年龄", "Age"),
                }
            ),
            dp_schema={
                "columns": {
                    "district": {"type": "categorical", "domain": DISTRICTS},
                    "month": {"type": "categorical", "domain": MONTHS},
                    "insurance_type": {"type": "categorical", "domain": INSURANCE},
                    "contribution_base": {"type": "numeric", "lower": 0, "upper": 40000},
                    "payment": {"type": "numeric", "lower": 0, "upper": 3000},
                    "age": {"type": "numeric", "lower": 16, "upper": 100},
                },
                "privacy_unit": {"column": "id_number", "max_contributions": 12},
                "max_query_epsilon": "1",
                "max_rows": 10_000_000,
            },
        ),
        lambda rng: social_insurance_payments(rng, 2000),
    ),
    (
        DatasetMeta(
            id="traffic-violations",
            title_zh="交通违法记录",
            title_en="Traffic violations",
            description_zh="机动车交通违法记录，含号牌与驾驶人信息。禁止开放。",
            description_en="Traffic violations with plates and driver details. Never opened.",
            publisher="traffic",
            publisher_name_zh="公安局交通警察支队",
            publisher_name_en="Traffic Police",
            keywords=["交通", "违法"],
            theme="公共安全",
            temporal_coverage="2026",
            spatial_coverage="杭州市",
            update_frequency="每日",
            contact="data@traffic.example.gov.cn",
            level=Level.L4,
            columns=_columns(
                {
                    "plate": ("号牌号码", "Plate"),
                    "driver_name": ("驾驶人", "Driver"),
                    "driver_id_number": ("驾驶人身份证号", "Driver ID number"),
                    "driver_mobile": ("驾驶人手机号", "Driver mobile"),
                    "occurred_at": ("违法时间", "Time"),
                    "location": ("违法地点", "Location"),
                    "violation": ("违法行为", "Violation"),
                    "fine_yuan": ("罚款（元）", "Fine (yuan)"),
                    "points": ("记分", "Points"),
                }
            ),
        ),
        lambda rng: traffic_violations(rng, 2000),
    ),
]


def ensure_demo_accounts(portal: Portal) -> None:
    """Portal records and roles of the demo accounts (idempotent)."""
    for name, (role, display) in DEMO_ACCOUNTS.items():
        profile: dict[str, Any] = {"display_name": display}
        if name == "operator":
            profile.update(
                organisation="杭州数智科技有限公司", organisation_uscc="91330106MA2GL2KX1Y"
            )
        users.ensure_user(portal, name=name, **profile)
        if role != "owner" and (role, "*") not in portal.policy.role_assignments(name):
            portal.policy.assign_role(name, role)
    for department in DEMO_DEPARTMENTS:
        if ("owner", f"dept:{department}") not in portal.policy.role_assignments("owner"):
            portal.policy.assign_role("owner", "owner", f"dept:{department}")
    portal.policy.reload()


def ensure_demo_data(portal: Portal, *, seed: int = 20261126) -> list[str]:
    """Publish the demo datasets as the demo data owner and confirm their proposed policies."""
    published = []
    with portal.sessions() as session:
        existing = set(session.scalars(select(Dataset.id)))
    for meta, generate in DEMO_DATASETS:
        if meta.id in existing:
            continue
        frame = generate(random.Random(f"{seed}-{meta.id}"))
        buffer = io.BytesIO()
        frame.write_csv(buffer)
        catalog.publish_dataset(
            portal, actor="owner", meta=meta, file_name=f"{meta.id}.csv", content=buffer.getvalue()
        )
        with portal.sessions() as session:
            dataset = session.get(Dataset, meta.id)
            assert dataset is not None and dataset.latest is not None
            proposed = dataset.latest.policy_yaml
        catalog.confirm_policy(portal, actor="owner", dataset_id=meta.id, policy_yaml=proposed)
        published.append(meta.id)
    return published
