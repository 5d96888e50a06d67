"""One application across levels, in the browser: each dataset at its own level, who approves it."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page
from running_platform import RunningHub

pytestmark = pytest.mark.integration

L2, L3 = "hotline-tickets", "social-insurance-payments"


def login(browser: Browser, hub: RunningHub, user: str) -> Page:
    page = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
    return hub.sign_in(page, user)


def asked(page: Page) -> dict[str, list[str]]:
    """The per-dataset table of the application page: dataset -> its cells as shown."""
    rows = {}
    for row in page.locator("#asked tbody tr").all():
        cells = [c.inner_text().strip() for c in row.locator("td").all()]
        rows[str(row.get_attribute("data-dataset"))] = cells
    return rows


def test_one_application_for_an_l2_and_an_l3_dataset(
    browser: Browser, hub: RunningHub, tmp_path: Path
) -> None:
    researcher, owner, officer = (
        login(browser, hub, u) for u in ("researcher", "owner", "officer")
    )
    researcher.goto(f"{hub.portal}/applications/new?dataset={L2}")
    researcher.check(f"input[name=dataset_ids][value={L3}]")
    assert "每个数据集按其自身级别授权" in researcher.locator("#level-help").inner_text()
    assert researcher.locator("#level").count() == 0  # no level for the whole application
    researcher.fill("textarea[name=purpose]", "热线诉求与社保缴费的区域关联分析")
    researcher.fill("input[name=epsilon]", "1")
    researcher.check("#agreement")
    researcher.check("#commitment")
    researcher.screenshot(path=tmp_path / "1-apply.png", full_page=True)
    researcher.click("#submit-application")
    researcher.wait_for_selector("#app-status")
    application_id = int(researcher.url.rstrip("/").rsplit("/", 1)[1])
    table = asked(researcher)
    assert table[L2][1] == "L2" and "脱敏明细" in table[L2][2] and "安全审核员" not in table[L2][3]
    assert table[L3][1] == "L3" and "差分隐私" in table[L3][2] and "安全审核员" in table[L3][3]
    researcher.screenshot(path=tmp_path / "2-submitted.png", full_page=True)

    owner.goto(f"{hub.portal}/applications/{application_id}")
    owner.click("#approve")
    owner.wait_for_selector("#app-status")
    assert owner.locator("#app-status").inner_text() == "已提交"  # the officer is still needed
    table = asked(owner)
    assert table[L2][4] == "owner" and table[L3][4] == "owner"
    owner.screenshot(path=tmp_path / "3-owner-approved.png", full_page=True)

    officer.goto(f"{hub.portal}/applications/{application_id}")
    officer.click("#approve")
    officer.wait_for_selector("#app-status")
    assert officer.locator("#app-status").inner_text() == "已批准"
    officer.screenshot(path=tmp_path / "4-officer-approved.png", full_page=True)

    researcher.goto(f"{hub.portal}/grants/g{application_id:04d}")
    shown = researcher.locator("#grant-datasets")
    assert "L2" in shown.locator(f"[data-dataset={L2}]").inner_text()
    assert "L3" in shown.locator(f"[data-dataset={L3}]").inner_text()
    assert researcher.locator("#budget-remaining").inner_text() == "1"
    researcher.screenshot(path=tmp_path / "5-grant.png", full_page=True)
    for page in (researcher, owner, officer):
        page.context.close()
