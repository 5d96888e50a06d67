"""Pages as a user sees them in Chromium: the audit page fits a 1280 px window and reads in
both languages; badges lead to the work they count. Screenshots are kept in the test's tmp dir."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hub_users import PREFIX, app_for, token_of
from playwright.sync_api import Browser, Page
from served import served
from unit.pages.world import USERS, build, world_portal

from open_portal.auth import TOKEN_COOKIE
from open_portal.service import exports

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp_path = tmp_path_factory.mktemp("pages")
    with pytest.MonkeyPatch.context() as monkeypatch, world_portal(tmp_path, monkeypatch) as portal:
        for _ in build(portal, tmp_path):
            pass
        for n in range(60):
            exports.comment(
                portal, actor="officer2", request_id=3, text=f"第 {n} 条意见：请核对合计"
            )
        with served(app_for(portal, USERS)) as url:
            yield url + PREFIX


def page_of(browser: Browser, site: str, user: str, lang: str, zone: str = "Asia/Shanghai") -> Page:
    context = browser.new_context(
        locale="zh-CN" if lang == "zh" else "en-US",
        viewport={"width": 1280, "height": 900},
        timezone_id=zone,
    )
    context.add_cookies(
        [
            {"name": TOKEN_COOKIE, "value": token_of(user), "url": site},
            {"name": "pds-lang", "value": lang, "url": site},
        ]
    )
    return context.new_page()


def shot(page: Page, tmp_path: Path, name: str) -> None:
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_audit_page_fits_and_reads(
    browser: Browser, site: str, tmp_path: Path, lang: str
) -> None:
    page = page_of(browser, site, "officer", lang)
    page.goto(f"{site}/audit")
    shot(page, tmp_path, f"audit-{lang}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    text = page.locator("main").inner_text()
    assert not re.search(r"\\u[0-9a-fA-F]{4}", text)
    assert page.locator("#events tr.event").count() == 50
    first = page.locator("#events tr.event td").first.inner_text()
    page.click("#older")
    shot(page, tmp_path, f"audit-older-{lang}")
    assert page.locator("#events tr.event td").first.inner_text() != first
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    # filter by type with its readable label
    page.goto(f"{site}/audit")
    label = "暂停授权" if lang == "zh" else "Grant suspended"
    page.select_option("#filter-type", label=label)
    page.click("#audit-filter button")
    shot(page, tmp_path, f"audit-filtered-{lang}")
    rows = page.locator("#events tr.event")
    assert rows.count() == 1 and label in rows.first.inner_text()
    assert "核查" in rows.first.inner_text()  # the reason, in Chinese as itself
    with page.expect_download() as download:
        page.click("#events a.evidence")
    assert download.value.suggested_filename.startswith("evidence-g")


def test_the_officer_badge_leads_to_what_it_counts(
    browser: Browser, site: str, tmp_path: Path
) -> None:
    page = page_of(browser, site, "officer2", "zh")
    page.goto(f"{site}/")
    count = int(page.locator("#review-badge").inner_text())
    page.click("#reviews-link")
    shot(page, tmp_path, "reviews-officer2")
    assert page.locator("tr.waiting").count() == count >= 1
    page.click("#export-queue a")
    assert re.search(r"/exports/\d+$", page.url)


def test_labels_read_in_each_language(browser: Browser, site: str, tmp_path: Path) -> None:
    """Decisions, check names, states and the grant's usage in words, switching language."""
    page = page_of(browser, site, "officer", "zh")
    page.goto(f"{site}/applications/3")
    decisions = page.locator("#decisions").inner_text()
    assert "批准" in decisions and "approve" not in decisions
    page.goto(f"{site}/exports/3")
    shot(page, tmp_path, "export-zh")
    checks = page.locator("table.checks").first.inner_text()
    assert "文件类型" in checks and "file_type" not in checks
    assert "最小单元格计数" in checks and "min_cell_count" not in checks
    page.click("#lang-en")
    page.wait_for_selector("#lang-zh")
    shot(page, tmp_path, "export-en")
    checks = page.locator("table.checks").first.inner_text()
    assert "File type" in checks and "Minimum cell count" in checks
    assert page.locator("#export-status").inner_text() == "Partially reviewed"
    page.goto(f"{site}/grants/g0002")
    shot(page, tmp_path, "grant-en")
    usage = page.locator("#usage").inner_text()
    assert "Workspace" in usage and "Differential privacy queries" in usage
    page.click("#lang-zh")
    page.wait_for_selector("#lang-en")
    shot(page, tmp_path, "grant-zh")
    usage = page.locator("#usage").inner_text()
    assert "工作区" in usage and "差分隐私查询" in usage
    assert not re.search(r"Workspace|DP|Export", usage)


@pytest.mark.parametrize(
    ("zone", "abbreviation"), [("Europe/Berlin", "CET"), ("Asia/Shanghai", "CST")]
)
def test_times_are_in_the_browsers_zone(
    browser: Browser, site: str, tmp_path: Path, zone: str, abbreviation: str
) -> None:
    page = page_of(browser, site, "officer", "en", zone=zone)
    page.goto(f"{site}/exports")  # the first page tells the portal the zone
    page.reload()
    shot(page, tmp_path, f"exports-{abbreviation}")
    times = page.locator("#export-list abbr").all_inner_texts()
    assert times and set(times) == {abbreviation}
