"""The researcher's workspace journey through the real platform: JupyterLab in the member's
language without network prompts, the welcome notebook and outbox/ from the start, DP accuracy
before spending and answers rounded to their noise, exports in one step from the workspace, and
the grant page's budget chart and accuracy form. Screenshots of each step are kept in the test's
temporary directory."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from integration.test_workspace_platform import run
from playwright.sync_api import Browser, BrowserContext, Page
from running_platform import RunningHub

pytestmark = pytest.mark.integration
USER = "researcher"
L3 = "social-insurance-payments"

WELCOME = """
import json, os
from pathlib import Path
import nbformat
home = Path.home()
nb = nbformat.read(home / "welcome.ipynb", as_version=4)
print(json.dumps({
    "entries": sorted(os.listdir(home)),
    "outbox_is_dir": (home / "outbox").is_dir(),
    "first": nb.cells[0].source,
    "code": "\\n".join(c.source for c in nb.cells if c.cell_type == "code"),
    "lang": os.environ.get("PDS_LANG"),
    "overrides": json.loads(Path("/etc/jupyter/lab/settings/overrides.json").read_text()),
}))
"""

JOURNEY = """
import json
from sandbox import client, dp
wanted = dp.preview("social-insurance-payments", "sum", column="payment", ci95=400000)
spent_before = client.budget()["spent"]
grouped = dp.group_sum("social-insurance-payments", "payment", by=["district"], epsilon=wanted.epsilon)
box = client.outbox()
(box / "safe.csv").write_text("区,人数\\n西湖区,120\\n上城区,95\\n合计,215\\n")
(box / "small.csv").write_text("区,人数\\n西湖区,120\\n上城区,7\\n合计,127\\n")
try:
    client.request_export(["safe.csv"], justification="图 2")
    unsent = ""
except client.ClientError as exc:
    unsent = str(exc)
submitted = client.request_export(["safe.csv"], justification="图 2：各区人数", controls="无小于 10 的单元格")
try:
    client.request_export(["small.csv"], justification="表 3", controls="尚未处理")
    held = {}
except client.ExportNotSubmitted as exc:
    held = {"id": exc.request_id, "url": exc.url, "missing": exc.missing, "text": str(exc)}
print(json.dumps({
    "preview": {"epsilon": wanted.epsilon, "ci95": wanted.ci95, "shown": repr(wanted)},
    "spent_before": spent_before,
    "grouped": {"values": [r["value"] for r in grouped.value], "ci95": grouped.ci95,
                "shown": repr(grouped), "epsilon": grouped.epsilon},
    "unsent": unsent, "submitted": submitted, "held": held,
}))
"""


def test_the_workspace_welcomes_in_the_members_language(hub: RunningHub) -> None:
    grant_id = hub.approved_grant(L3, "L3", epsilon="1")
    token = hub.token(USER)
    hub.start_workspace(USER, grant_id, token, options={"lang": "en"})
    seen = run(hub, token, grant_id, WELCOME)
    assert {"welcome.ipynb", "outbox", "project"} <= set(seen["entries"])  # type: ignore[arg-type]
    assert seen["outbox_is_dir"] is True and seen["lang"] == "en"
    first = str(seen["first"])
    last_day = (dt.date.today() + dt.timedelta(days=30)).isoformat()  # the application's end
    assert f"Welcome to the workspace of grant {grant_id}" in first
    assert f"**{last_day}**" in first and "**ε 1**" in first
    assert f"| `{L3}` |" in first and "| L3 |" in first
    assert f'dp.preview("{L3}", "count", ci95=10)' in str(seen["code"])
    overrides = seen["overrides"]
    assert isinstance(overrides, dict)
    assert overrides["@jupyterlab/translation-extension:plugin"] == {"locale": "en"}
    with hub.api(USER) as api:
        grant = api.get(f"/api/grants/{grant_id}").json()
    assert dt.datetime.fromisoformat(grant["ends_at"]).astimezone(
        dt.timezone(dt.timedelta(hours=8))
    ) == dt.datetime.combine(
        dt.date.fromisoformat(last_day) + dt.timedelta(days=1),
        dt.time(),
        dt.timezone(dt.timedelta(hours=8)),
    )


def test_dp_and_exports_from_the_workspace(hub: RunningHub) -> None:
    grant_id = hub.approved_grant(L3, "L3", epsilon="1")
    token = hub.token(USER)
    hub.start_workspace(USER, grant_id, token)
    seen = run(hub, token, grant_id, JOURNEY)
    preview, grouped = seen["preview"], seen["grouped"]
    assert isinstance(preview, dict) and isinstance(grouped, dict)
    assert 0 < preview["epsilon"] <= 1 and preview["ci95"] <= 400_000
    assert float(str(seen["spent_before"])) == 0  # the preview spent nothing
    assert grouped["epsilon"] == preview["epsilon"] and grouped["ci95"] == preview["ci95"]
    step = 10 ** (len(str(int(grouped["ci95"]))) - 2)  # a tenth of the interval's leading decade
    for value in grouped["values"]:
        assert value == round(value / step) * step, (value, step)  # no 672000.0000006985
    assert "±" in grouped["shown"] and "(95%)" in grouped["shown"]
    assert "导出申请未发送" in str(seen["unsent"]) and "controls is required" in str(seen["unsent"])
    held = seen["held"]
    assert isinstance(held, dict) and held["url"].startswith(f"{hub.url}/services/portal/exports/")
    assert [m["file"] for m in held["missing"]] == ["small.csv"]
    with hub.api(USER) as api:
        exports = api.get("/api/exports").json()  # other tests' requests are there too
        mine = {r["id"]: r["status"] for r in exports if r["grant"] == grant_id}
    assert mine == {int(str(seen["submitted"])): "submitted", int(held["id"]): "pending"}


def login(context: BrowserContext, hub: RunningHub) -> Page:
    page = context.new_page()
    return hub.sign_in(page, USER)


def open_lab(portal: Page, hub: RunningHub, grant_id: str) -> Page:
    portal.goto(f"{hub.portal}/grants/{grant_id}")
    with portal.context.expect_page() as opened:
        portal.click("#open-workspace")
    lab = opened.value
    lab.wait_for_url(f"{hub.workspace_origin(USER)}/user/{USER}/{grant_id}/lab**", timeout=240_000)
    lab.wait_for_selector("#jp-main-dock-panel", timeout=120_000)
    lab.wait_for_selector(".jp-DirListing-item", timeout=60_000)
    lab.wait_for_timeout(2_000)  # notifications, if any, appear shortly after start
    return lab


@pytest.fixture
def shots(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "screenshots"
    folder.mkdir()
    yield folder
    assert sorted(p.name for p in folder.iterdir())  # the steps were photographed


def test_in_a_browser_from_the_grant_page(hub: RunningHub, browser: Browser, shots: Path) -> None:
    zh_grant = hub.approved_grant(L3, "L3", epsilon="1")
    en_grant = hub.approved_grant("hotline-tickets")
    context = browser.new_context(
        locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1280, "height": 800}
    )
    portal = login(context, hub)
    # the grant page: its last day, the budget chart with its axes, the accuracy form
    portal.goto(f"{hub.portal}/grants/{zh_grant}")
    last_day = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    assert portal.locator("#grant-last-day").inner_text() == f"{last_day} 24:00 CST"
    assert "已用 ε" in portal.locator("#budget-chart").inner_html()
    portal.screenshot(path=shots / "01-grant-page-zh.png", full_page=True)
    portal.click("#accuracy-link")
    portal.select_option("#acc-kind", "sum")
    portal.select_option("#acc-column", "payment")
    portal.fill("#acc-ci95", "400000")
    portal.click("#acc-submit")
    portal.wait_for_selector("#accuracy-result")
    assert portal.locator("#acc-result-epsilon").inner_text()
    assert portal.locator("input[name=ci95]").input_value() == "400000"  # the input is kept
    portal.screenshot(path=shots / "02-accuracy-preview.png", full_page=True)
    portal.select_option("#acc-column", "district")
    portal.click("#acc-submit")
    assert "声明上下界" in portal.locator("#accuracy-error").inner_text()  # shown on the form
    # JupyterLab in Chinese, with the welcome notebook and outbox/, and no news prompt
    lab = open_lab(portal, hub, zh_grant)
    assert lab.locator("#jp-MainMenu").get_by_text("文件", exact=True).count() >= 1
    listing = lab.locator(".jp-DirListing-content").inner_text()
    assert "welcome.ipynb" in listing and "outbox" in listing
    body = lab.locator("body").inner_text()
    assert "news" not in body.lower() and "新闻" not in body and "资讯" not in body
    lab.screenshot(path=shots / "03-jupyterlab-zh.png")
    lab.locator(".jp-DirListing-item", has_text="welcome.ipynb").dblclick()
    lab.wait_for_selector(".jp-MarkdownOutput h1", timeout=60_000)
    assert zh_grant in lab.locator(".jp-MarkdownOutput h1").first.inner_text()
    lab.screenshot(path=shots / "04-welcome-notebook-zh.png")
    lab.close()
    # two DP queries from the workspace: the chart steps up at their times
    queries = f'from sandbox import dp\nfor e in ("0.2", "0.3"): dp.count("{L3}", epsilon=e)\nprint("{{}}")'
    with ThreadPoolExecutor(1) as thread:  # Playwright's loop runs in this one
        thread.submit(run, hub, hub.token(USER), zh_grant, queries).result()
    portal.goto(f"{hub.portal}/grants/{zh_grant}")
    assert "差分隐私查询: 2" in portal.locator("#budget-figure figcaption").inner_text()
    points = portal.get_attribute("#budget-line", "points") or ""
    heights = [float(p.split(",")[1]) for p in points.split()]
    assert len(heights) == 6 and heights[0] > heights[3] > heights[-1]  # 0, then 0.2, then 0.5
    portal.locator("#budget-figure").screenshot(path=shots / "07-budget-chart-after-queries.png")
    # the member switches the portal to English: the next workspace follows
    portal.goto(f"{hub.portal}/lang/en?next=/services/portal/grants/{en_grant}")
    assert "no differential privacy budget" in portal.locator("#no-dp-budget").inner_text()
    portal.screenshot(path=shots / "05-grant-page-en-no-dp.png", full_page=True)
    lab = open_lab(portal, hub, en_grant)
    assert lab.locator("#jp-MainMenu").get_by_text("File", exact=True).count() >= 1
    assert "news" not in lab.locator("body").inner_text().lower()
    lab.screenshot(path=shots / "06-jupyterlab-en.png")
    context.close()
    token = hub.token(USER)
    for grant_id in (zh_grant, en_grant):
        httpx.delete(
            f"{hub.url}/hub/api/users/{USER}/servers/{grant_id}",
            headers={"Authorization": f"token {token}"},
            timeout=60,
        )
