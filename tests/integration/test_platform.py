"""The whole platform from one command: login through the hub, bilingual home, API tokens."""

from __future__ import annotations

import html
import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import ckanapi
import httpx
import polars as pl
import pytest
from playwright.sync_api import Browser, Page
from running_platform import PASSWORD, ROOT, RunningHub, running_hub

pytestmark = pytest.mark.integration


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


def login(page: Page, hub: RunningHub, user: str, password: str = PASSWORD) -> None:
    page.goto(f"{hub.portal}/login?next=/services/portal/")
    page.fill("#username_input", user)
    page.fill("#password_input", password)
    page.click("#login_submit")
    page.wait_for_url(f"{hub.portal}/**")


def test_researcher_logs_in_and_switches_language(hub: RunningHub, page: Page) -> None:
    login(page, hub, "researcher")
    assert page.locator("#welcome").inner_text().startswith("欢迎")
    assert page.locator("#who").inner_text() == "researcher"
    assert "研究人员" in page.locator("#home-researcher").inner_text()
    page.click("#lang-en")
    page.wait_for_selector("#lang-zh")
    assert page.locator("#welcome").inner_text().startswith("Welcome")
    assert "Apply for restricted data" in page.locator("#home-researcher").inner_text()


def test_wrong_password_is_refused(hub: RunningHub, page: Page) -> None:
    page.goto(f"{hub.portal}/login?next=/services/portal/")
    page.fill("#username_input", "researcher")
    page.fill("#password_input", "wrong-password")
    page.click("#login_submit")
    page.wait_for_selector(".login_error, p.login_error, .alert")
    assert "/hub/login" in page.url
    assert (
        httpx.post(
            f"{hub.url}/hub/api/users/researcher/tokens",
            json={"auth": {"username": "researcher", "password": "wrong"}},
            timeout=30,
        ).status_code
        == 403
    )


def test_portal_api_with_a_hub_token(hub: RunningHub) -> None:
    with hub.api("officer") as api:
        me = api.get("/api/me")
        assert me.status_code == 200
        assert me.json() == {"name": "officer", "roles": ["officer"], "via": "token"}
        events = api.get("/api/audit/events", params={"type": "dataset."})
        assert events.status_code == 200
        assert {e["type"] for e in events.json()} >= {
            "dataset.published",
            "dataset.policy_confirmed",
        }
        page = api.get("/audit", params={"dataset": "hotline-tickets"})
        assert page.status_code == 200 and "dataset.published" in page.text
        assert "pds.local/audit" in api.get("/audit/checkpoint").text
    with hub.api("researcher") as api:
        denied = api.get("/api/audit/events", headers={"accept-language": "en"})
        assert denied.status_code == 403
        assert "may not read" in denied.json()["error"]


def test_anonymous_request_is_sent_to_login(hub: RunningHub) -> None:
    response = httpx.get(f"{hub.portal}/applications", timeout=30)
    assert response.status_code == 302
    assert response.headers["location"].startswith("/services/portal/login")
    bogus = httpx.get(
        f"{hub.portal}/api/me", headers={"Authorization": "token not-a-token"}, timeout=30
    )
    assert bogus.status_code == 401


def test_demo_data_one_dataset_per_level(hub: RunningHub) -> None:
    body = httpx.get(
        f"{hub.portal}/api/3/action/package_search", params={"facet.field": '["level"]'}, timeout=30
    ).json()
    # the demo has one dataset per level; other tests of this platform publish more (L2, L3)
    levels = body["result"]["facets"]["level"]
    assert set(levels) == {"L1", "L2", "L3"}, levels  # the demo's L4 dataset is never listed
    assert all(count >= 1 for count in levels.values()), levels
    registry = httpx.get(f"{hub.portal}/datasets/enterprise-registrations/download", timeout=30)
    assert registry.status_code == 200 and registry.content.startswith(b"PAR1")


def test_a_second_deployment_on_the_same_port_is_refused_and_the_first_runs_on(
    hub: RunningHub, tmp_path: Path
) -> None:
    port = hub.url.rsplit(":", 1)[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PDS_")}
    env.update(
        {"PDS_DATA_DIR": str(tmp_path / "second"), "PDS_PORT": port, "PDS_DEMO_PASSWORD": PASSWORD}
    )
    result = subprocess.run(
        [sys.executable, "-m", "open_portal.launch"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and f"port {port} (PDS_PORT)" in result.stderr
    assert not (tmp_path / "second").exists()
    assert httpx.get(f"{hub.portal}/api/health", timeout=10).status_code == 200


@pytest.mark.parametrize("get_only", [False, True])
def test_ckanapi_reads_the_running_platform(hub: RunningHub, get_only: bool) -> None:
    """ckanapi, unchanged, through the hub's proxy: the open-data world's client."""
    remote = ckanapi.RemoteCKAN(hub.portal, get_only=get_only)
    names = remote.action.package_list()
    assert "traffic-violations" not in names and "enterprise-registrations" in names
    found = remote.action.package_search(fq="level:L1", **{"facet.field": '["organization"]'})
    assert [p["name"] for p in found["results"]] == ["enterprise-registrations"]
    with pytest.raises(ckanapi.NotFound):
        remote.action.package_show(id="traffic-violations")
    turtle = httpx.get(f"{hub.portal}/dcat/catalog.ttl", timeout=30)
    assert turtle.status_code == 200 and "dcat:Catalog" in turtle.text


def test_a_second_deployment_is_harvested_and_searchable(hub: RunningHub, tmp_path: Path) -> None:
    """一本账: a city platform's catalog is harvested into this one, with links back."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PDS_")}
    env["PDS_DATA_DIR"] = str(hub.data_dir)

    def harvest(url: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "open_portal.cli",
                "catalog",
                "harvest",
                url,
                "--actor",
                "admin",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    with running_hub(tmp_path / "city" / "var") as city:
        url = f"{city.portal}/dcat/catalog.ttl"
        first = harvest(url)
        assert first.returncode == 0, first.stderr
        page = httpx.get(f"{hub.portal}/catalog", params={"q": "热线"}, timeout=30).text
        assert f'href="{city.portal}/datasets/hotline-tickets"' in page
        assert harvest(url).returncode == 0
    # the city platform is gone: the harvest fails, and the catalog keeps what it had
    down = harvest(url)
    assert down.returncode == 2 and "failed" in down.stderr
    page = httpx.get(f"{hub.portal}/catalog", params={"q": "热线"}, timeout=30).text
    assert f'href="{city.portal}/datasets/hotline-tickets"' in page


def test_admin_registers_a_source_in_the_browser_and_sees_why_it_failed(
    hub: RunningHub, browser: Browser
) -> None:
    page = browser.new_context(locale="zh-CN").new_page()
    login(page, hub, "admin")
    page.goto(f"{hub.portal}/admin")
    page.click("#harvest-link")
    page.wait_for_selector("#register-source")
    page.fill("input[name=title]", "停用的县级平台")
    page.fill("input[name=url]", "http://127.0.0.1:9/dcat/catalog.ttl")
    page.click("#register-source button")
    row_of_source = page.locator("#sources tr.status-failed", has_text="停用的县级平台")
    row_of_source.wait_for()
    row = row_of_source.inner_text()
    assert "停用的县级平台" in row and "采集失败" in row and "无法连接来源" in row
    page.goto(f"{hub.portal}/admin/harvest?lang=en")
    english = page.locator("#sources").inner_text()
    assert "failed" in english and "the source cannot be reached" in english
    page.context.close()


def test_a_published_csv_keeps_its_number_and_date_types(tmp_path: Path) -> None:
    """An owner publishes a CSV through the portal, sees the inferred types, keeps one number as
    text, confirms; the downloaded release has Int64, Float64 and Date columns. (A platform of
    its own: the shared one's catalog stays as the other tests expect it.)"""
    lines = ["mobile,visits,beds,amount,visit_date,station_code,remark,note"]
    for i in range(60):
        lines.append(
            f"138{i:08d},{i % 17},{i % 5 - 2},{i * 12.5:.2f},2025-0{i % 9 + 1}-1{i % 10},"
            f"0{100 + i},正常,市民王小明（电话13812345678）来电反映候诊时间过长，第{i}号"
        )
    content = ("\n".join(lines) + "\n").encode()
    fields = {
        "id": "typed-visits",
        "title_zh": "就诊统计",
        "title_en": "Visits",
        "publisher": "hrss",
        "level": "L1",
    }
    with running_hub(tmp_path / "var") as hub, hub.api("owner") as api:
        published = api.post(
            "/publish", data=fields, files={"file": ("visits.csv", content, "text/csv")}
        )
        assert published.status_code == 303, published.text
        page = api.get("/datasets/typed-visits", headers={"accept-language": "en"}).text
        for name, kind in (("visits", "integer"), ("amount", "float"), ("visit_date", "date")):
            assert re.search(
                f'name="type:{name}">.*?<option value="{kind}" selected>', page, re.S
            ), name
        assert '<option value="string" selected>' in page.split('name="type:station_code"')[1]
        assert 'name="type:mobile"' not in page  # personal data: text, not offered
        assert 'id="text-detection"' in page  # the free text is scanned once, in the background
        found = re.search(r'name="policy_yaml"[^>]*>(.*?)</textarea>', page, re.S)
        assert found is not None
        policy = html.unescape(found[1])
        refused = api.post(
            "/datasets/typed-visits/policy",
            data={"policy_yaml": policy, "type:remark": "integer"},
            headers={"accept-language": "en"},
        )
        assert refused.status_code == 422 and "remark" in refused.text
        confirmed = api.post(
            "/datasets/typed-visits/policy",
            data={"policy_yaml": policy, "type:visits": "string"},
        )
        assert confirmed.status_code == 303, confirmed.text
        download = httpx.get(f"{hub.portal}/datasets/typed-visits/download", timeout=60)
    assert download.status_code == 200
    schema = pl.read_parquet(io.BytesIO(download.content)).schema
    assert schema["beds"] == pl.Int64
    assert schema["amount"] == pl.Float64
    assert schema["visit_date"] == pl.Date
    assert schema["visits"] == pl.String  # the owner's choice
    assert schema["station_code"] == pl.String  # leading zeros: a code
    assert "mobile" not in schema
    if "note" in schema:
        notes = pl.read_parquet(io.BytesIO(download.content)).get_column("note")
        assert not notes.str.contains("王小明|13812345678").any()


def test_signing_in_on_the_hub_page_lands_signed_in_on_the_portal(
    hub: RunningHub, browser: Browser
) -> None:
    """One sign-in: the hub's page speaks both languages in the portal's look, and after it the
    portal knows who you are (no second 登录 click)."""
    page = browser.new_context(locale="en-US").new_page()
    page.goto(f"{hub.url}/hub/login")
    text = page.locator("#pds-login").inner_text()
    assert "用户名" in text and "User name" in text and "密码" in text and "Password" in text
    assert page.locator("link[href='/services/portal/static/portal.css']").count() == 1
    page.fill("#username_input", "researcher")
    page.fill("#password_input", "wrong password")
    page.click("#login_submit")
    assert "用户名或密码错误" in page.locator(".login_error").inner_text()
    page.fill("#username_input", "researcher")
    page.fill("#password_input", PASSWORD)
    page.click("#login_submit")
    page.wait_for_selector("#who")
    assert page.url.startswith(f"{hub.portal}/")
    assert "researcher" in page.locator("#who").inner_text()
    page.context.close()
