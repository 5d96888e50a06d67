"""The audit page: pages through the index, filters with readable labels, readable Unicode,
views of held files left out unless asked for, the evidence bundle one click away."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from urllib.parse import parse_qsl

import pytest
from fastapi.testclient import TestClient
from hub_users import PREFIX, app_for, auth_header
from sqlalchemy import select
from unit.pages.world import USERS, build, world_portal

from open_portal.models import AuditIndexEntry
from open_portal.service import exports
from open_portal.service.context import Portal

ROW = re.compile(r'<tr class="event"><td>(\d+)</td>')
LINK = re.compile(r'id="(older|newer)" href="([^"]+)"')


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Portal, TestClient]]:
    tmp_path = tmp_path_factory.mktemp("audit")
    with pytest.MonkeyPatch.context() as monkeypatch, world_portal(tmp_path, monkeypatch) as portal:
        for _ in build(portal, tmp_path):
            pass
        client = TestClient(app_for(portal, USERS), follow_redirects=False)
        queue = client.get(f"{PREFIX}/reviews", headers=auth_header("officer2"))
        (request_id,) = re.findall(r"/exports/(\d+)\"", queue.text)
        for _ in range(30):  # every look at the held file is on the record
            client.get(f"{PREFIX}/exports/{request_id}", headers=auth_header("officer2"))
        for n in range(70):
            exports.comment(
                portal, actor="officer2", request_id=int(request_id), text=f"第 {n} 条意见"
            )
        yield portal, client


def get(client: TestClient, url: str = "/audit", lang: str = "zh", **params: str) -> str:
    """The page at ``url`` (a page's own link keeps its query) as the officer sees it."""
    if "?" in url:
        url, query = url.split("?", 1)
        params = {**dict(parse_qsl(query)), **params}
    response = client.get(
        url if url.startswith(PREFIX) else PREFIX + url,
        params={"lang": lang, **params},
        headers=auth_header("officer"),
    )
    assert response.status_code == 200, response.text
    return response.text


def indexed(portal: Portal, *, noise: bool) -> list[int]:
    c = AuditIndexEntry.__table__.c
    query = select(c.log_index).order_by(c.log_index.desc())
    if not noise:
        query = query.where(c.type != "export.file_viewed")
    with portal.engine.connect() as conn:
        return list(conn.scalars(query))


def test_pages_walk_the_whole_log_both_ways(site: tuple[Portal, TestClient]) -> None:
    portal, client = site
    expected = indexed(portal, noise=False)
    assert len(expected) > 100  # more than two pages
    html, seen, pages = get(client), [], []
    while len(pages) < 10:
        rows = [int(i) for i in ROW.findall(html)]
        assert 0 < len(rows) <= 50
        pages.append(rows)
        seen += rows
        links = dict(LINK.findall(html))
        if "older" not in links:
            break
        html = get(client, unescape(links["older"]))
    assert seen == expected
    for rows in reversed(pages[:-1]):  # and back, newer page by newer page
        html = get(client, unescape(dict(LINK.findall(html))["newer"]))
        assert [int(i) for i in ROW.findall(html)] == rows
    assert "newer" not in dict(LINK.findall(html))


def test_views_of_held_files_are_left_out_unless_asked_for(
    site: tuple[Portal, TestClient],
) -> None:
    portal, client = site
    viewed = len(indexed(portal, noise=True)) - len(indexed(portal, noise=False))
    assert viewed >= 30
    html = get(client, lang="en")
    assert "Held file viewed" not in html.split('id="events"')[1]
    assert f"{viewed} views of held files not shown" in html
    shown = get(client, lang="en", views="1", type="export.file_viewed")
    assert len(ROW.findall(shown)) == min(viewed, 50)
    assert "Held file viewed" in shown.split('id="events"')[1]


def test_filters_have_readable_labels_and_work(site: tuple[Portal, TestClient]) -> None:
    _, client = site
    zh = get(client)
    assert '<option value="grant.suspend">暂停授权</option>' in zh
    for name in ("事件类型", "操作人", "授权", "数据集", "起始日期", "截止日期"):
        assert f"<label>{name}" in zh
    for placeholder in ('placeholder="actor"', 'placeholder="type"', 'placeholder="since"'):
        assert placeholder not in zh
    en = get(client, lang="en", type="grant.", actor="officer")
    types = re.findall(r'<small class="id" translate="no">([^<]+)</small>', en)
    assert types and all(t.startswith("grant.") for t in types)
    assert set(re.findall(r'<td translate="no">([^<]+)</td>', en)) == {"officer"}
    assert "Grant suspended" in en
    none = get(client, since="2000-01-01", until="2000-01-31")
    assert ROW.findall(none) == []
    today = get(client, since="2000-01-01", until="2999-12-31")
    assert len(ROW.findall(today)) == 50


def test_chinese_is_shown_as_itself_never_as_escapes(site: tuple[Portal, TestClient]) -> None:
    _, client = site
    html = get(client, type="grant.suspend")
    assert "<dt>reason</dt><dd>核查</dd>" in html
    everything = "".join(get(client, before=str(n)) for n in range(0, 400, 50))
    assert not re.search(r"\\u[0-9a-fA-F]{4}", everything)


def test_the_evidence_bundle_is_one_click_away(site: tuple[Portal, TestClient]) -> None:
    _, client = site
    html = get(client, type="grant.suspend")
    (link,) = set(re.findall(r'class="evidence" href="([^"]+)"', html))
    bundle = client.get(link, headers=auth_header("officer"))
    assert bundle.status_code == 200
    assert bundle.json()["entries"] and bundle.json()["grant"] == link.rsplit("/", 1)[1]
    assert 'id="evidence"' in get(client, grant=link.rsplit("/", 1)[1])


def test_a_bad_date_is_a_clear_bilingual_400(site: tuple[Portal, TestClient]) -> None:
    _, client = site
    response = client.get(
        f"{PREFIX}/audit", params={"since": "yesterday"}, headers=auth_header("officer")
    )
    assert 400 <= response.status_code < 500
    assert "YYYY-MM-DD" in response.text


def test_the_events_api_answers_each_event_with_its_index(
    site: tuple[Portal, TestClient],
) -> None:
    portal, client = site
    response = client.get(
        f"{PREFIX}/api/audit/events",
        params={"type": "export.commented", "limit": "5"},
        headers=auth_header("officer"),
    )
    assert response.status_code == 200, response.text
    events = response.json()
    assert len(events) == 5
    keys = ["index", "actor", "details", "object", "subject", "time", "type"]
    assert all(list(e) == keys for e in events)
    for event in events:
        assert event["type"] == "export.commented"
        ((_, stored),) = portal.audit.entries(event["index"], event["index"] + 1)
        assert stored.to_dict() == {k: v for k, v in event.items() if k != "index"}
