"""The security assessment report in the browser: the owner confirms a policy and reads the
report (page, charts, PDF); an L1 report is public; an L2 one is not for researchers."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page
from running_platform import RunningHub

pytestmark = pytest.mark.integration


def login(browser: Browser, hub: RunningHub, user: str, locale: str = "zh-CN") -> Page:
    page = browser.new_context(
        locale=locale, viewport={"width": 1280, "height": 900}, accept_downloads=True
    ).new_page()
    return hub.sign_in(page, user)


def test_the_owner_confirms_a_policy_and_reads_the_report(
    browser: Browser, hub: RunningHub, tmp_path: Path
) -> None:
    owner = login(browser, hub, "owner")
    owner.goto(f"{hub.portal}/datasets/hotline-tickets#policy")
    owner.click("#confirm-policy")
    owner.wait_for_url("**/datasets/hotline-tickets/report")
    owner.wait_for_selector("#report-summary", timeout=180_000)  # the page reloads until ready
    assert owner.locator("h1").inner_text().startswith("安全评估报告")
    assert int(owner.locator("#k-achieved").inner_text()) > 1
    assert owner.locator("#residual").inner_text() == "未发现"
    rows = owner.locator("#report-columns tbody tr")
    actions = {
        str(r.get_attribute("data-column")): r.locator("td").nth(2).inner_text() for r in rows.all()
    }
    assert actions["caller_id_number"] == "假名化" and actions["content"] == "文本脱敏"
    assert (
        owner.locator("#risk-chart").is_visible() and owner.locator("#actions-chart").is_visible()
    )
    owner.screenshot(path=tmp_path / "report-zh.png", full_page=True)
    with owner.expect_download() as download:
        owner.click("#report-pdf")
    pdf = tmp_path / "report.pdf"
    download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF-") and pdf.stat().st_size > 5000
    owner.context.close()


def test_l1_report_is_public_and_l2_is_not_for_researchers(
    browser: Browser, hub: RunningHub, tmp_path: Path
) -> None:
    anonymous = browser.new_context(locale="en-US").new_page()
    anonymous.goto(f"{hub.portal}/datasets/enterprise-registrations/report?lang=en")
    anonymous.wait_for_selector("#report-summary")
    assert anonymous.locator("h1").inner_text().startswith("Security assessment report")
    anonymous.screenshot(path=tmp_path / "report-l1-en.png", full_page=True)
    anonymous.context.close()
    researcher = login(browser, hub, "researcher")
    answer = researcher.goto(f"{hub.portal}/datasets/hotline-tickets/report")
    assert answer is not None and answer.status == 404
    researcher.context.close()
