"""Every role's whole journey in Chromium, only through the pages, in Chinese and (shorter) English.

An owner publishes a CSV with the publishing form and reads the assessment report; a researcher
finds it in the catalog and applies for it together with an L3 dataset; the owner and an officer
approve; the researcher opens the workspace, loads the L2 data (typed), asks the L3 one by DP and
requests an export from the client; officers review and release it; the researcher downloads it
and ends the grant, which is destroyed with a certificate; the audit page shows it all. Bad input
on the publishing and application forms gets a message on the page and keeps what was typed.
Each step is photographed into the test's temporary directory.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from running_platform import PASSWORD, RunningHub

pytestmark = pytest.mark.integration

L3 = "social-insurance-payments"
L3_TITLE = {"zh": "社会保险缴费记录", "en": "Social insurance payments"}

TEXT = {
    "zh": {
        "log in": "登录",
        "publish": "发布数据",
        "dataset id": "数据集标识",
        "title zh": "标题（中文）",
        "title en": "标题（英文）",
        "publisher": "提供部门",
        "level": "分级",
        "file": "文件（CSV、Parquet、Excel）",
        "confirm policy": "确认策略",
        "report": "安全评估报告",
        "catalog": "数据目录",
        "search": "搜索",
        "apply": "申请使用",
        "purpose": "用途",
        "epsilon": "隐私预算",
        "submit": "提交",
        "submitted": "已提交",
        "approved": "已批准",
        "reviews": "审核",
        "approve": "批准",
    },
    "en": {
        "log in": "Log in",
        "publish": "Publish",
        "dataset id": "Dataset id",
        "title zh": "Title (Chinese)",
        "title en": "Title (English)",
        "publisher": "Publisher",
        "level": "Level",
        "file": "File (CSV, Parquet, Excel)",
        "confirm policy": "Confirm policy",
        "report": "Security assessment report",
        "catalog": "Catalog",
        "search": "Search",
        "apply": "Apply for access",
        "purpose": "Purpose",
        "epsilon": "Privacy budget",
        "submit": "Submit",
        "submitted": "Submitted",
        "approved": "Approved",
        "reviews": "Reviews",
        "approve": "Approve",
    },
}


REPORT_TYPES = {
    "zh": {"district": "文本", "report_date": "日期", "cases": "整数", "amount": "小数"},
    "en": {"district": "text", "report_date": "date", "cases": "integer", "amount": "decimal"},
}


class Shots:
    """Numbered full-page screenshots of each step, kept in the test's temporary directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.count = 0

    def __call__(self, page: Page, name: str) -> None:
        self.count += 1
        page.screenshot(path=self.directory / f"{self.count:02d}-{name}.png", full_page=True)


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Shots:
    return Shots(tmp_path_factory.mktemp("journey-screenshots"))


def csv_of_numbers_and_dates(rows: int = 240) -> bytes:
    """Cases and amounts per district and day: text, dates, integers and decimals."""
    rng = random.Random(16)
    districts = ["上城区", "拱墅区", "西湖区", "滨江区"]
    lines = ["district,report_date,cases,amount"]
    start = dt.date(2025, 1, 1)
    for i in range(rows):
        day = start + dt.timedelta(days=i // len(districts))
        amount = f"{rng.randint(1000, 99999) / 100:.2f}"
        lines.append(
            f"{districts[i % len(districts)]},{day.isoformat()},{rng.randint(1, 80)},{amount}"
        )
    return ("\n".join(lines) + "\n").encode()


def open_as(browser: Browser, hub: RunningHub, user: str, lang: str) -> Page:
    """A new browser at the portal's start page, logged in through the 登录 / Log in link."""
    context = browser.new_context(
        locale="zh-CN" if lang == "zh" else "en-US",
        viewport={"width": 1280, "height": 900},
        accept_downloads=True,
    )
    page = context.new_page()
    page.goto(f"{hub.portal}/")
    if lang == "en" and page.locator("#lang-en").count():
        page.locator("#lang-en").click()
    page.get_by_role("link", name=TEXT[lang]["log in"], exact=True).click()
    page.get_by_label(re.compile("用户名|User name")).fill(user)
    page.get_by_label(re.compile("密码|Password")).fill(PASSWORD)
    page.locator("#login_submit").click()
    page.wait_for_selector("#who")
    return page


def nav(page: Page, name: str) -> None:
    page.locator("nav, header").get_by_role("link", name=name).first.click()
    page.wait_for_load_state()


def publish(page: Page, lang: str, dataset_id: str, csv: Path, shots: Shots) -> None:
    """The publishing form: first an id already taken (refused on the form, input kept)."""
    t = TEXT[lang]
    nav(page, t["publish"])
    title_zh, title_en = f"区县日报 {dataset_id}", f"District daily {dataset_id}"
    page.get_by_label(t["dataset id"]).fill("hotline-tickets")  # taken: refused
    page.get_by_label(t["title zh"]).fill(title_zh)
    page.get_by_label(t["title en"]).fill(title_en)
    page.get_by_label(t["level"]).select_option("L2")
    page.get_by_label(t["file"]).set_input_files(csv)
    page.get_by_role("button", name=t["publish"], exact=True).click()
    error = page.locator("#publish-error, .error").first
    expect(error).to_be_visible()
    shots(page, f"{lang}-publish-refused")
    assert page.get_by_label(t["title zh"]).input_value() == title_zh  # nothing typed is lost
    assert page.get_by_label(t["title en"]).input_value() == title_en
    page.get_by_label(t["dataset id"]).fill(dataset_id)
    page.get_by_label(t["file"]).set_input_files(csv)
    page.get_by_role("button", name=t["publish"], exact=True).click()
    page.get_by_role("button", name=t["confirm policy"]).wait_for()
    shots(page, f"{lang}-published-policy")
    columns = page.locator("body").inner_text()
    for column in ("report_date", "cases", "amount"):
        assert column in columns
    page.get_by_role("button", name=t["confirm policy"]).click()
    page.wait_for_selector("#report-summary", timeout=180_000)  # the page reloads until ready
    assert page.locator("h1").inner_text().startswith(t["report"])
    types = {
        str(r.get_attribute("data-column")): r.locator("td").last.inner_text()
        for r in page.locator("#report-columns tbody tr").all()
    }
    assert types == REPORT_TYPES[lang], types  # numbers and dates read as such
    shots(page, f"{lang}-report")


def apply(page: Page, lang: str, dataset_id: str, shots: Shots) -> int:
    """Catalog search, the dataset, 申请使用 with the L3 dataset added; bad ε first."""
    t = TEXT[lang]
    nav(page, t["catalog"])
    page.get_by_placeholder(re.compile("搜索|Search")).fill(dataset_id)
    page.get_by_role("button", name=t["search"], exact=True).click()
    page.locator(".dataset-row").get_by_role("link").first.click()
    page.get_by_role("link", name=t["apply"]).click()
    assert page.get_by_label(re.compile(dataset_id)).is_checked()  # the dataset it came from
    page.get_by_label(L3_TITLE[lang]).check()
    purpose = "区县日报与社保缴费的关联分析 / districts and insurance payments"
    page.get_by_label(t["purpose"]).fill(purpose)
    page.get_by_role("textbox", name=re.compile(t["epsilon"])).fill("lots")  # not a number: refused
    page.get_by_label(re.compile("开放利用协议|data-use agreement")).check()
    page.get_by_label(re.compile("安全要求|security commitment")).check()
    page.get_by_role("button", name=t["submit"], exact=True).click()
    page.wait_for_load_state()
    shots(page, f"{lang}-apply-refused")
    expect(page.locator("#application-error")).to_contain_text(
        "隐私预算 ε 须为数字" if lang == "zh" else "epsilon must be a decimal number"
    )
    assert page.get_by_label(t["purpose"]).input_value() == purpose  # nothing typed is lost
    assert page.get_by_label(L3_TITLE[lang]).is_checked()
    assert page.get_by_label(re.compile(dataset_id)).is_checked()
    page.get_by_role("textbox", name=re.compile(t["epsilon"])).fill("1")
    page.get_by_role("button", name=t["submit"], exact=True).click()
    page.wait_for_selector("#app-status")
    assert page.locator("#app-status").inner_text() == t["submitted"]
    shots(page, f"{lang}-applied")
    return int(page.url.rstrip("/").rsplit("/", 1)[1])


def approve(page: Page, lang: str, application_id: int, shots: Shots, who: str) -> str:
    t = TEXT[lang]
    page.get_by_role("link", name=re.compile(t["reviews"])).first.click()
    page.get_by_role("link", name=f"#{application_id}", exact=True).click()
    page.get_by_role("button", name=t["approve"], exact=True).click()
    page.wait_for_selector("#app-status")
    shots(page, f"{lang}-{who}-approved")
    return page.locator("#app-status").inner_text()


@pytest.fixture(scope="module")
def csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("upload") / "district-daily.csv"
    path.write_bytes(csv_of_numbers_and_dates())
    return path


WORKSPACE_CODE = """
import json
from sandbox import client, dp
frame = client.load("{l2}").collect()
count = dp.count("{l3}", epsilon="0.25")
by_district = {{}}
for row in frame.iter_rows(named=True):
    by_district[row["district"]] = by_district.get(row["district"], 0) + row["cases"]
(client.outbox() / "cases-by-district.csv").write_text(
    "district,cases\\n" + "".join(f"{{d}},{{c}}\\n" for d, c in sorted(by_district.items())),
    encoding="utf-8",
)
request = client.request_export(
    ["cases-by-district.csv"],
    justification="各区县病例合计，用于年度报告 / cases per district for the annual report",
    controls="只含区县合计，每格远大于 10 / district totals only, every cell far above 10",
)
print(json.dumps({{
    "schema": {{k: str(v) for k, v in frame.schema.items()}},
    "rows": frame.height,
    "count": count.value,
    "request": request,
}}))
"""


def test_every_role_in_chinese(
    browser: Browser, hub: RunningHub, csv: Path, shots: Shots, tmp_path: Path
) -> None:
    started = time.monotonic()
    owner = open_as(browser, hub, "owner", "zh")
    researcher = open_as(browser, hub, "researcher", "zh")
    officer = open_as(browser, hub, "officer", "zh")
    officer2 = open_as(browser, hub, "officer2", "zh")
    try:
        journey(hub, owner, researcher, officer, officer2, csv, shots, tmp_path)
    finally:
        for page in (owner, researcher, officer, officer2):
            page.context.close()
    assert time.monotonic() - started < 240


def journey(
    hub: RunningHub,
    owner: Page,
    researcher: Page,
    officer: Page,
    officer2: Page,
    csv: Path,
    shots: Shots,
    tmp_path: Path,
) -> None:
    dataset_id = "district-daily-zh"
    publish(owner, "zh", dataset_id, csv, shots)
    application_id = apply(researcher, "zh", dataset_id, shots)
    assert approve(owner, "zh", application_id, shots, "owner") == "已提交"  # L3: officer too
    assert approve(officer, "zh", application_id, shots, "officer") == "已批准"

    # the researcher sees the grant and opens the workspace through the hub
    nav(researcher, "授权")
    researcher.get_by_role("link", name=f"g{application_id:04d}").first.click()
    grant_id = f"g{application_id:04d}"
    expect(researcher.locator("#grant-status")).to_have_text("有效")
    shots(researcher, "zh-grant")
    with researcher.context.expect_page() as opened:
        researcher.get_by_role("link", name="打开工作区").click()
    lab = opened.value
    lab.wait_for_url(f"**/user/researcher/{grant_id}/**", timeout=240_000)
    lab.wait_for_selector("#jp-main-dock-panel", timeout=120_000)  # JupyterLab itself
    lab.wait_for_load_state("networkidle")
    shots(lab, "zh-workspace")
    lab.close()

    token = hub.token("researcher")
    code = WORKSPACE_CODE.format(l2=dataset_id, l3=L3)
    with ThreadPoolExecutor(1) as pool:  # Playwright's loop runs in this thread
        output = pool.submit(hub.run_code, grant_id, code, token=token).result()
    seen = json.loads(output.strip().splitlines()[-1])
    assert seen["rows"] > 100 and seen["count"] > 0
    assert seen["schema"]["cases"].startswith("Int") and seen["schema"]["amount"] == "Float64"
    assert seen["schema"]["report_date"] == "Date"
    request_id = int(seen["request"])

    # officers: the badge counts the queue; each reviews, one approves and releases
    for who, reviewer in (("officer", officer), ("officer2", officer2)):
        nav(reviewer, "数据目录")
        badge = int(reviewer.locator("#review-badge").inner_text())
        reviewer.get_by_role("link", name=re.compile("审核")).first.click()
        assert reviewer.locator("tr.waiting").count() == badge
        shots(reviewer, f"zh-queue-{who}")
        waiting = reviewer.get_by_role("row").filter(has_text=grant_id)
        waiting.get_by_role("link", name=f"#{request_id}", exact=True).click()
        for button in reviewer.get_by_role("button", name="批准该文件").all():
            button.click()
            reviewer.wait_for_load_state()
        reviewer.get_by_role("button", name="完成我的审核").click()
        reviewer.wait_for_load_state()
        shots(reviewer, f"zh-export-reviewed-{who}")
        if reviewer.get_by_role("button", name="批准", exact=True).count():
            break
    reviewer.get_by_role("button", name="批准", exact=True).click()
    reviewer.get_by_role("button", name="放行").click()
    reviewer.wait_for_load_state()
    expect(reviewer.locator("h1")).to_contain_text("放行")  # the signed release manifest
    released_by = reviewer.get_by_role("row", name=re.compile("放行人"))
    expect(released_by).to_contain_text("officer2")
    assert not re.search(r"\dT\d", released_by.inner_text())  # a time as read, not ISO text
    shots(reviewer, "zh-released")

    # the researcher downloads the release
    nav(researcher, "数据导出")
    researcher.get_by_role("link", name=f"#{request_id}", exact=True).first.click()
    with researcher.expect_download() as download:
        researcher.get_by_role("link", name="下载").first.click()
    released = tmp_path / "released.csv"
    download.value.save_as(released)
    assert released.read_text(encoding="utf-8").startswith("district,cases")
    shots(researcher, "zh-downloaded")

    # the researcher ends the grant; it is destroyed with a certificate
    nav(researcher, "授权")
    researcher.get_by_role("link", name=grant_id).first.click()
    researcher.get_by_role("button", name="结束授权").click()
    expect(researcher.locator("#grant-status")).to_have_text("已结束")
    researcher.get_by_role("link", name="销毁").click()
    deadline = time.monotonic() + 90
    certificate = researcher.get_by_role("heading", name="销毁证明")
    while not certificate.count() and time.monotonic() < deadline:
        time.sleep(3)  # the portal destroys an ended grant within a minute
        researcher.reload()
    expect(certificate).to_be_visible()
    shots(researcher, "zh-destroyed")

    # the officer's audit page: the events, newest first, 50 a page, filtered by the grant
    nav(officer, "审计")
    events = officer.locator("#events tr.event")
    assert 0 < events.count() <= 50
    shots(officer, "zh-audit")
    if events.count() == 50:  # more than a page: the older ones one click away
        officer.get_by_role("link", name=re.compile("较早")).click()
        assert events.count() > 0
        shots(officer, "zh-audit-older")
    else:
        assert not officer.get_by_role("link", name=re.compile("较早")).count()
    officer.get_by_label("授权", exact=True).fill(grant_id)
    officer.get_by_role("button", name="筛选").click()
    officer.wait_for_load_state()
    shown = officer.locator("#events").inner_text()
    for label in ("差分隐私查询", "放行导出", "授权已销毁（销毁证明）"):
        assert label in shown, label
    assert "\\u" not in shown  # Chinese as written, not escaped
    shots(officer, "zh-audit-grant")


def test_owner_and_researcher_in_english(
    browser: Browser, hub: RunningHub, csv: Path, shots: Shots
) -> None:
    owner = open_as(browser, hub, "owner", "en")
    researcher = open_as(browser, hub, "researcher", "en")
    officer = open_as(browser, hub, "officer", "en")
    try:
        dataset_id = "district-daily-en"
        publish(owner, "en", dataset_id, csv, shots)
        application_id = apply(researcher, "en", dataset_id, shots)
        assert approve(owner, "en", application_id, shots, "owner") == "Submitted"
        assert approve(officer, "en", application_id, shots, "officer") == "Approved"
        grant_id = f"g{application_id:04d}"
        nav(researcher, "Grants")
        researcher.get_by_role("link", name=grant_id).first.click()
        expect(researcher.locator("#grant-status")).to_have_text("Active")
        shown = researcher.locator("main").inner_text()
        assert dataset_id in shown and "Open workspace" in shown
        shots(researcher, "en-grant")
    finally:
        for page in (owner, researcher, officer):
            page.context.close()
