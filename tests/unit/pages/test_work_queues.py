"""Every badge counts exactly what its page lists, for every user in every state; each
notification leads to a page its reader may open."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hub_users import PREFIX, app_for, auth_header
from unit.pages.world import USERS, build, world_portal

BADGE = re.compile(r'id="(review-badge|notification-badge)">(\d+)<')
HREF = re.compile(r'href="([^"]+)"')


def badges(client: TestClient, user: str) -> dict[str, int]:
    home = client.get(f"{PREFIX}/", headers=auth_header(user))
    assert home.status_code == 200
    return {name: int(n) for name, n in BADGE.findall(home.text)}


def section(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}">(.*?)</(table|ul)>', html, re.S)
    return match.group(1) if match else ""


def test_badges_count_what_their_pages_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, int] = {}
    with world_portal(tmp_path, monkeypatch) as portal:
        client = TestClient(app_for(portal, USERS), follow_redirects=False)
        for step in build(portal, tmp_path):
            for user in USERS:
                shown = badges(client, user)
                page = client.get(f"{PREFIX}/reviews", headers=auth_header(user))
                if page.status_code == 200:
                    rows = page.text.count('<tr class="waiting">')
                    assert shown.get("review-badge", 0) == rows, (step, user)
                    assert ("queue-empty" in page.text) == (rows == 0), (step, user)
                    seen[user] = max(seen.get(user, 0), rows)
                else:
                    assert "review-badge" not in shown, (step, user)
                notes = client.get(f"{PREFIX}/notifications", headers=auth_header(user))
                unread = section(notes.text, "unread")
                assert shown.get("notification-badge", 0) == unread.count("<li>"), (step, user)
                seen["notifications"] = seen.get("notifications", 0) + unread.count("<li>")
                for link in HREF.findall(unread):
                    target = client.get(link, headers=auth_header(user))
                    assert target.status_code == 200, (step, user, link)
                assert "notification-badge" not in str(badges(client, user))
    # the queues were not trivially empty: owners and officers had work at some step
    assert seen["owner"] >= 2 and seen["officer"] >= 1 and seen["officer2"] >= 1
    assert seen["notifications"] >= 10


def test_an_officer_finds_the_counted_export_on_the_review_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with world_portal(tmp_path, monkeypatch) as portal:
        client = TestClient(app_for(portal, USERS), follow_redirects=False)
        for step in build(portal, tmp_path):
            if step.endswith("submitted") and step.startswith("export"):
                break
        request_id = step.split("#")[1].split()[0]
        page = client.get(f"{PREFIX}/reviews", headers=auth_header("officer"))
        assert f'href="{PREFIX}/exports/{request_id}"' in section(page.text, "export-queue")
        assert badges(client, "officer")["review-badge"] == 1
