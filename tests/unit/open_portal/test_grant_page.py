"""The grant page: its term's last day where users are, the budget chart with axes and time, and
no empty chart for a grant without a DP budget."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from factories import add_dataset, portal_at, submitted_application
from fastapi.testclient import TestClient
from hub_users import PREFIX, app_for, auth_header

from open_portal import charts, ledger
from open_portal.models import Application, Decision, Level
from open_portal.service import applications, grants
from open_portal.service.context import Portal

START = dt.datetime(2026, 11, 1, 0, 0, tzinfo=dt.UTC)


def test_the_chart_steps_up_at_each_charge_on_a_time_axis() -> None:
    charges = [
        (START + dt.timedelta(hours=6), Decimal("0.5")),
        (START + dt.timedelta(hours=12), Decimal("1.5")),
    ]
    chart = charts.budget_chart(
        Decimal("2"), charges, start=START, now=START + dt.timedelta(days=1), zone=ZoneInfo("UTC")
    )
    points = [tuple(map(float, p.split(","))) for p in chart.points.split()]
    bottom, top = charts.BOTTOM, charts.TOP
    assert points[0] == (charts.LEFT, bottom)
    assert points[-1][0] == charts.RIGHT
    quarter = charts.LEFT + (charts.RIGHT - charts.LEFT) / 4
    assert points[1:3] == [(quarter, bottom), (quarter, bottom - (bottom - top) / 4)]
    assert points[-1][1] == bottom - (bottom - top) * 0.75
    assert [t.label for t in chart.y_ticks] == ["0", "0.5", "1", "1.5", "2"]
    assert [t.label for t in chart.x_ticks][::2] == ["11-01 00:00", "11-01 12:00", "11-02 00:00"]
    assert chart.charges == 2
    assert chart.dots == [points[2], points[4]]


def test_a_long_term_is_labelled_by_day_in_the_time_zone() -> None:
    chart = charts.budget_chart(
        Decimal("1"),
        [],
        start=START,
        now=START + dt.timedelta(days=40),
        zone=ZoneInfo("Asia/Shanghai"),
    )
    assert chart.x_ticks[0].label == "2026-11-01"  # 08:00 in Shanghai
    assert chart.x_ticks[-1].label == "2026-12-11"
    assert chart.zone == "CST"


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[Portal]:
    with portal_at(tmp_path / "data", f"sqlite:///{tmp_path / 'p.sqlite'}") as p:
        add_dataset(p, "tickets", Level.L2, publisher="hotline")
        add_dataset(p, "payments", Level.L3, publisher="hrss")
        p.policy.assign_role("owner", "owner", "dept:hotline")
        p.policy.assign_role("owner", "owner", "dept:hrss")
        yield p


def _approved(portal: Portal, dataset: str, level: Level, **kw: str) -> tuple[str, dt.date]:
    app_id = submitted_application(portal, [dataset], level, **kw)
    for reviewer in ("owner", "officer") if level == Level.L3 else ("owner",):
        applications.review(
            portal, actor=reviewer, application_id=app_id, decision=Decision.APPROVE
        )
    with portal.sessions() as session:
        application = session.get(Application, app_id)
        assert application is not None
        return f"g{app_id:04d}", application.ends_on


def test_the_page_shows_the_applications_last_day_and_the_chart(portal: Portal) -> None:
    grant_id, ends_on = _approved(portal, "payments", Level.L3, epsilon="2")
    charge = ledger.reserve(
        portal.engine,
        grant_id,
        Decimal("0.5"),
        actor="researcher",
        query_hash="q",
        now=portal.clock(),
    )
    assert charge.spent_after == Decimal("0.5")
    client = TestClient(app_for(portal, ["researcher"]), follow_redirects=False)
    page = client.get(f"{PREFIX}/grants/{grant_id}?lang=en", headers=auth_header("researcher"))
    assert page.status_code == 200
    # the application's last day, ending at 24:00 there (China Standard Time by default)
    cst = '<abbr translate="no" title="Asia/Shanghai">CST</abbr>'
    assert f'<span id="grant-last-day">{ends_on.isoformat()} 24:00 {cst}</span>' in page.text
    assert 'id="budget-chart"' in page.text and 'id="budget-line"' in page.text
    assert "ε spent" in page.text and 'Time (<tspan translate="no">CST</tspan>)' in page.text
    assert 'id="no-dp-budget"' not in page.text
    listed = client.get(f"{PREFIX}/grants?lang=en", headers=auth_header("researcher"))
    assert f"{ends_on.isoformat()} 24:00 {cst}" in listed.text
    # a user elsewhere sees the same instant in their own zone
    client.cookies.set("pds-tz", "Europe/London")
    away = client.get(f"{PREFIX}/grants/{grant_id}?lang=en", headers=auth_header("researcher"))
    end = dt.datetime.combine(ends_on + dt.timedelta(days=1), dt.time(), ZoneInfo("Asia/Shanghai"))
    there = end.astimezone(ZoneInfo("Europe/London"))
    shown = f'{there:%Y-%m-%d %H:%M} <abbr translate="no" title="Europe/London">{there.tzname()}'
    assert f'<span id="grant-last-day">{shown}</abbr></span>' in away.text


def test_a_grant_without_dp_says_so_instead_of_an_empty_chart(portal: Portal) -> None:
    grant_id, _ = _approved(portal, "tickets", Level.L2)
    client = TestClient(app_for(portal, ["researcher"]), follow_redirects=False)
    page = client.get(f"{PREFIX}/grants/{grant_id}", headers=auth_header("researcher"))
    assert 'id="budget-chart"' not in page.text
    assert "本授权没有差分隐私预算" in page.text


def test_a_grant_its_holder_ended_is_shown_as_ended(portal: Portal) -> None:
    grant_id, _ = _approved(portal, "tickets", Level.L2)
    grants.change_status(portal, actor="researcher", grant_id=grant_id, action="end")
    client = TestClient(app_for(portal, ["researcher"]), follow_redirects=False)
    zh = client.get(f"{PREFIX}/grants/{grant_id}", headers=auth_header("researcher"))
    assert '<span class="status" id="grant-status">已结束</span>' in zh.text
    en = client.get(f"{PREFIX}/grants/{grant_id}?lang=en", headers=auth_header("researcher"))
    assert '<span class="status" id="grant-status">Ended</span>' in en.text
    today = dt.datetime.now(dt.UTC).astimezone(ZoneInfo("Asia/Shanghai")).date()
    assert f'<span id="grant-last-day">{today.isoformat()} ' in en.text
