"""Publishing in the browser without guessing: departments to choose from, a client-side id
check, errors on the form with the input kept, columns and types from the file, DCAT coverage,
and the assessment report after the confirmation."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from playwright.sync_api import Browser, Page
from running_platform import RunningHub

pytestmark = pytest.mark.integration


def login(browser: Browser, hub: RunningHub, user: str) -> Page:
    page = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
    return hub.sign_in(page, user)


def fill(page: Page, dataset_id: str, csv: Path) -> None:
    page.fill("#id", dataset_id)
    page.fill("#title_zh", "街道人口与服务统计")
    page.fill("#title_en", "Street population and services")
    page.select_option("#publisher", "hotline")
    page.select_option("#level", "L2")
    page.select_option("#theme", "SOCI")
    page.fill("#temporal_start", "2021")
    page.fill("#temporal_end", "2025")
    page.fill("#spatial_coverage", "杭州市")
    page.select_option("#update_frequency", "MONTHLY")
    page.fill("#contact", "data@hangzhou.gov.cn")
    page.set_input_files("#file", str(csv))


def test_an_owner_publishes_a_csv_without_guessing(
    browser: Browser, hub: RunningHub, tmp_path: Path
) -> None:
    csv = tmp_path / "streets.csv"
    pl.DataFrame(
        {
            "street": ["西溪街道", "古荡街道", "翠苑街道"] * 20,
            "residents": [1200 + i for i in range(60)],
            "share": [0.25 + i / 1000 for i in range(60)],
            "counted_on": [f"2025-{i % 12 + 1:02d}-01" for i in range(60)],
        }
    ).write_csv(csv)
    owner = login(browser, hub, "owner")
    owner.goto(f"{hub.portal}/publish")
    options = owner.locator("#publisher option").all_inner_texts()
    assert any("12345 政务服务热线" in o for o in options)  # departments by name, to choose
    themes = owner.locator("#theme option").all_inner_texts()
    assert "人口和社会" in themes and len(themes) == 14  # the EU data themes, and none
    owner.fill("#id", "Bad Id!")
    assert owner.locator("#id").evaluate("e => e.checkValidity()") is False  # pattern works
    owner.fill("#id", "street-stats")
    assert owner.locator("#id").evaluate("e => e.checkValidity()") is True

    fill(owner, "hotline-tickets", csv)  # an id that exists: refused on the form
    owner.click("#publish")
    owner.wait_for_selector("#publish-error")
    assert "已存在" in owner.locator("#publish-error").inner_text()
    assert owner.locator("#title_zh").input_value() == "街道人口与服务统计"  # nothing lost
    assert owner.locator("#temporal_end").input_value() == "2025"
    assert owner.locator("#update_frequency").input_value() == "MONTHLY"
    assert owner.locator("#theme").input_value() == "SOCI"
    assert owner.locator("#publisher").input_value() == "hotline"
    owner.screenshot(path=tmp_path / "1-publish-refused.png", full_page=True)

    owner.fill("#id", "street-stats")
    owner.set_input_files("#file", str(csv))
    owner.click("#publish")
    owner.wait_for_url("**/datasets/street-stats#policy")
    types = {
        str(row.get_attribute("data-column")): row.locator("td").nth(1).inner_text()
        for row in owner.locator("tr[data-column]").all()
    }
    assert types == {"street": "文本", "residents": "整数", "share": "小数", "counted_on": "日期"}
    page_text = owner.locator("main, body").first.inner_text()
    assert "2021/2025" in page_text and "杭州市" in page_text and "每月" in page_text
    owner.screenshot(path=tmp_path / "2-published.png", full_page=True)

    proposed = owner.locator("#policy-yaml").input_value()
    broken = proposed + "\n  nonexistent_column: {action: drop}\n"
    owner.fill("#policy-yaml", broken)  # a refused policy: said on the page, the text kept
    owner.click("#confirm-policy")
    owner.wait_for_selector("#policy-error")
    assert "脱敏策略无效" in owner.locator("#policy-error").inner_text()
    assert owner.locator("#policy-yaml").input_value() == broken.replace("\r\n", "\n")
    owner.screenshot(path=tmp_path / "3-policy-refused.png", full_page=True)
    owner.fill("#policy-yaml", proposed)
    owner.click("#confirm-policy")
    owner.wait_for_url("**/datasets/street-stats/report")
    owner.wait_for_selector("#report-summary", timeout=180_000)
    assert (
        owner.locator("#report-columns tr[data-column=residents] td").nth(4).inner_text() == "整数"
    )
    owner.screenshot(path=tmp_path / "4-report.png", full_page=True)

    dcat = owner.request.get(f"{hub.portal}/dcat/datasets/street-stats.jsonld").text()
    for expected in ("accrualPeriodicity", "MONTHLY", "data-theme/SOCI", "2021", "2025", "杭州市"):
        assert expected in dcat
    assert "mailto:data@" in dcat
    owner.context.close()
