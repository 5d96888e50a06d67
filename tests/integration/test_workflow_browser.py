"""The data-open workflow in a real browser, each step from login: apply, approve, co-approve L3."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page
from running_platform import RunningHub

pytestmark = pytest.mark.integration


def login(browser: Browser, hub: RunningHub, user: str) -> Page:
    page = browser.new_context(locale="zh-CN").new_page()
    return hub.sign_in(page, user)


def apply(page: Page, hub: RunningHub, dataset: str, level: str) -> int:
    page.goto(f"{hub.portal}/datasets/{dataset}")
    page.click("#apply")
    page.wait_for_selector("#application-form")
    assert page.locator(f"input[name=dataset_ids][value={dataset}]").is_checked()
    page.fill("textarea[name=purpose]", "分析诉求类别与办结率的关系，形成统计报告")
    if level == "L3":
        page.fill("input[name=epsilon]", "2")
    page.check("#agreement")
    page.check("#commitment")
    page.click("#submit-application")
    page.wait_for_selector("#app-status")
    assert page.locator("#app-status").inner_text() == "已提交"
    return int(page.url.rstrip("/").rsplit("/", 1)[1])


def decide(page: Page, hub: RunningHub, application_id: int, button: str, comment: str = "") -> str:
    page.goto(f"{hub.portal}/reviews")
    page.click(f"#queue a[href$='/applications/{application_id}']")
    page.wait_for_selector("#review-form")
    if comment:
        page.fill("#comment", comment)
    page.click(f"#{button}")
    page.wait_for_selector("#app-status")
    return page.locator("#app-status").inner_text()


@pytest.fixture
def pages(browser: Browser, hub: RunningHub) -> Iterator[dict[str, Page]]:
    opened = {user: login(browser, hub, user) for user in ("researcher", "owner", "officer")}
    yield opened
    for page in opened.values():
        page.context.close()


def test_researcher_applies_and_owner_approves_l2(hub: RunningHub, pages: dict[str, Page]) -> None:
    application_id = apply(pages["researcher"], hub, "hotline-tickets", "L2")
    owner = pages["owner"]
    owner.goto(f"{hub.portal}/")
    assert int(owner.locator("#review-badge").inner_text()) >= 1
    assert decide(owner, hub, application_id, "approve") == "已批准"
    researcher = pages["researcher"]
    researcher.goto(f"{hub.portal}/grants")
    researcher.click(f"#grants a:has-text('g{application_id:04d}')")
    assert researcher.locator("#grant-status").inner_text() == "有效"
    assert researcher.locator("#open-workspace").is_visible()


def test_officer_co_approves_l3(hub: RunningHub, pages: dict[str, Page]) -> None:
    application_id = apply(pages["researcher"], hub, "social-insurance-payments", "L3")
    assert decide(pages["owner"], hub, application_id, "approve") == "已提交"
    assert decide(pages["officer"], hub, application_id, "approve") == "已批准"
    researcher = pages["researcher"]
    researcher.goto(f"{hub.portal}/grants/g{application_id:04d}")
    assert researcher.locator("#budget-remaining").inner_text() == "2"
    assert researcher.locator("#budget-chart").is_visible()


def test_owner_returns_with_a_comment(hub: RunningHub, pages: dict[str, Page]) -> None:
    application_id = apply(pages["researcher"], hub, "hotline-tickets", "L2")
    owner = pages["owner"]
    owner.goto(f"{hub.portal}/applications/{application_id}")
    owner.click("#return")  # no comment: refused with a message, state unchanged
    assert "请填写意见" in owner.locator(".error").inner_text()
    assert decide(owner, hub, application_id, "return", comment="请补充数据安全措施") == "已退回"
