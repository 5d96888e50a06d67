"""From a real L2 workspace, try every way JupyterLab's own server hands a file to the browser
(raw files, the viewer, the contents API in every format) on copies of the grant's release: as
they are, renamed to every suffix the lab opens (notes, code, images, notebooks' backups), cut
to a note's size, and rewritten as CSV, TSV and JSON. None is served; the member's own notes,
notebooks and plots still open (the control, so the test can fail). What stays possible is
moving text by hand in pieces of a note's size, or printing it (ADR 0004)."""

from __future__ import annotations

import json

import httpx
import pytest
from running_platform import RunningHub

pytestmark = pytest.mark.integration

# copy each release file to project/ and home under many names; write the member's own files
PLANT = r"""
import json, os, shutil
import polars as pl
from PIL import Image
release = os.environ["PDS_RELEASE_DIR"]
names = sorted(n for n in os.listdir(release) if n.endswith(".parquet"))
planted = []
for n in names:
    src = os.path.join(release, n)
    stem = os.path.splitext(n)[0]
    for folder in ("project", "."):
        for suffix in (".csv", ".parquet", ".txt", ".py", ".md", ".json", ".png", ".ipynb.bak", ""):
            dst = os.path.join(folder, f"copy-{stem}{suffix}")
            shutil.copyfile(src, dst)
            planted.append(dst.removeprefix("./"))
        small = os.path.join(folder, f"head-{stem}.txt")  # a chunk small enough for a note
        with open(src, "rb") as f, open(small, "wb") as out:
            out.write(f.read(60 * 1024))
        planted.append(small.removeprefix("./"))
        table = pl.read_parquet(src)
        for suffix in (".csv", ".json", ".tsv"):
            dst = os.path.join(folder, f"table-{stem}{suffix}")
            table.write_csv(dst) if suffix != ".json" else table.write_json(dst)
            planted.append(dst.removeprefix("./"))
with open("project/notes.md", "w") as f:
    f.write("# 分析笔记 notes\n")
Image.new("RGB", (8, 8), "red").save("project/plot.png")
with open("project/analysis.ipynb", "w") as f:
    json.dump({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, f)
rows = []
for n in names:
    src = os.path.join(release, n)
    frame = pl.read_parquet(src)
    for row in frame.head(40).iter_rows():
        cells = [str(c) for c in row if c is not None and len(str(c)) >= 8]
        rows += cells[:1]
print(json.dumps({"planted": planted, "rows": rows}, ensure_ascii=False))
"""

OWN_FILES = {"project/notes.md": "text", "project/plot.png": "base64"}


def says_why(response: httpx.Response) -> bool:
    """Whether a refusal tells the member, in both languages, where files leave."""
    text = response.text
    if response.headers.get("content-type", "").startswith("application/json"):
        text = str(response.json().get("message", ""))
    return "导出申请" in text and "export request" in text


def download_routes(path: str) -> list[str]:
    """Every route of the single-user server that returns a file's bytes."""
    return [
        f"files/{path}",
        f"files/{path}?download=1",
        f"view/{path}",
        f"api/contents/{path}",
        f"api/contents/{path}?content=1",
        f"api/contents/{path}?content=1&type=file",
        f"api/contents/{path}?content=1&type=file&format=text",
        f"api/contents/{path}?content=1&type=file&format=base64",
        f"api/contents/{path}?content=1&format=base64&hash=1",
    ]


def test_release_copies_cannot_be_downloaded_from_the_lab(hub: RunningHub) -> None:
    grant_id = hub.approved_grant(
        "hotline-tickets", purpose="工作区下载测试 downloads from the lab"
    )
    token = hub.token("researcher")
    hub.start_workspace("researcher", grant_id, token)
    seen = json.loads(hub.run_code(grant_id, PLANT, token=token, timeout=240).splitlines()[-1])
    planted, rows = seen["planted"], seen["rows"]
    assert planted and len(rows) >= 20
    leaks: dict[str, int] = {}
    with hub.workspace_client("researcher", grant_id, token) as lab:
        for path in planted:
            for route in download_routes(path):
                response = lab.get(route)
                if any(row in response.text for row in rows):
                    leaks[route] = response.status_code
                served = route.startswith("files/") or "content=1" in route
                if served and (response.status_code != 403 or not says_why(response)):
                    leaks[route] = response.status_code
        # listing still works: the copies are visible, only their content is withheld
        listing = lab.get("api/contents/project", params={"content": "1"})
        assert listing.status_code == 200
        assert {f"project/{e['name']}" for e in listing.json()["content"]} >= {
            p for p in planted if p.startswith("project/")
        }
        # the control: the member's own notes, plot and notebook open in the lab
        for path, fmt in OWN_FILES.items():
            own = lab.get(f"api/contents/{path}", params={"content": "1"})
            assert own.status_code == 200 and own.json()["format"] == fmt, (path, own.text)
        notebook = lab.get("api/contents/project/analysis.ipynb", params={"content": "1"})
        assert notebook.status_code == 200 and notebook.json()["type"] == "notebook"
        assert lab.get("lab").status_code == 200
    assert leaks == {}
