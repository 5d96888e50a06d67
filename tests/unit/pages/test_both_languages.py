"""Both languages everywhere: the catalogs cover every marked text, and every page, as every
role and anonymous, in Chinese and in English, shows no text left in the other language.

What a page shows as data (names, ids, what users wrote) is marked ``translate="no"`` in the
templates, as HTML means it; the rest is interface text and must be in the page's language:
no Chinese on an English page, no English words (beyond the technical names listed) and no raw
ids on a Chinese page.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hub_users import PREFIX, app_for, auth_header
from sqlalchemy import select
from unit.pages.world import USERS, build, world_portal

from open_portal import i18n
from open_portal.models import Application, Dataset, ExportRequest, Grant
from open_portal.routes import ROUTERS

ROOT = Path(__file__).resolve().parents[3]
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff01-\uff5e]")
RAW_ID = re.compile(r"\b[a-z]+(?:[._][a-z]+)+\b")
# technical names a Chinese page keeps as they are
KEPT = re.compile(
    r"NIST SP 800-88( Rev\. 1)?|AES-256-GCM|SHA-256|DCAT-AP|DCAT|JSON-LD|JSON|CSV|Parquet|Excel|"
    r"CKAN|YAML|HTTPS?|ISO|Cookie|KiB|PDF|URL|API|ID|outbox/|pds audit verify-certificate|"
    r"L[1-4]|YYYY-MM-DD|[vV]\d+|client\.load|sandbox\.dp"
)
NO_TEXT = {"script", "style", "code", "pre", "textarea", "kbd", "samp", "title"}  # <title>: as <h1>
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
# pages whose HTML is not the portal's own: the API's description (Swagger UI)
NOT_OURS = {"/api/docs"}


def extracted() -> set[str]:
    """Every msgid marked in the sources, as ``scripts/messages.sh`` extracts them."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = extract_from_dir(
        str(ROOT / "open_portal"),
        [(p.removeprefix("open_portal/"), m) for p, m in method_map],
        options_map,
        keywords={"t": None, "N_": None},
    )
    return {message for _, _, message, _, _ in found}


def test_the_catalogs_cover_every_marked_text() -> None:
    marked = extracted()
    assert len(marked) > 300
    zh, en = i18n.catalog("zh"), i18n.catalog("en")
    untranslated = sorted(marked - set(zh))
    assert untranslated == [], "run scripts/messages.sh and translate these in zh_CN"
    for lang, messages in (("zh", zh), ("en", en)):
        stale = sorted(set(messages) - marked)
        assert stale == [], f"{lang}: translations no source uses (run scripts/messages.sh)"
    assert not [m for m, s in zh.items() if not CJK.search(s) and KEPT.sub("", s).strip()]
    # t("...") inside an f-string escapes the extractor: such text must be marked elsewhere
    python = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "open_portal").rglob("*.py"))
    called = set(re.findall(r"""\bt\((?:"([^"]+)"|'([^']+)')\)""", python))
    assert sorted({a or b for a, b in called} - marked - {"..."}) == []


def test_templates_hold_no_chinese() -> None:
    """Chinese lives in the catalogs, never in a template (only the language switch names 中文)."""
    for template in sorted((ROOT / "open_portal" / "templates").glob("*.html")):
        source = re.sub(r"{#.*?#}", "", template.read_text(encoding="utf-8"), flags=re.S)
        source = source.replace('lang="zh-CN" translate="no" href="{{ base }}/lang/zh', "")
        lines = [line for line in source.splitlines() if CJK.search(line.replace(">中文<", ""))]
        assert lines == [], template.name


class Shown(HTMLParser):
    """The interface text of a page: text and labelling attributes outside ``translate="no"``."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, bool]] = []
        self.texts: list[str] = []

    def hidden(self) -> bool:
        return bool(self.stack) and self.stack[-1][1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        hidden = self.hidden() or values.get("translate") == "no" or tag in NO_TEXT
        if not hidden:
            self.texts += [v for k, v in attrs if k in ("title", "aria-label", "alt") and v]
        if tag not in VOID:
            self.stack.append((tag, hidden))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, -1, -1):
            if self.stack[depth][0] == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        if data.strip() and not self.hidden():
            self.texts.append(data.strip())


def wrong_language(html: str, lang: str) -> list[str]:
    """The interface texts of the page that are not in ``lang``."""
    parser = Shown()
    parser.feed(html)
    wrong = []
    for text in parser.texts:
        plain = KEPT.sub("", text)
        if lang == "en":
            bad = CJK.search(text) or RAW_ID.search(plain)
        else:
            bad = re.search(r"[A-Za-z]{2,}", plain)
        if bad:
            wrong.append(text)
    return wrong


def html_pages() -> list[APIRoute]:
    return [
        r
        for router in ROUTERS
        for r in router.routes
        if isinstance(r, APIRoute)
        and "GET" in r.methods
        and getattr(r.response_class, "value", r.response_class) is HTMLResponse
        and r.path not in NOT_OURS
    ]


def urls(portal: object, routes: list[APIRoute]) -> dict[str, list[str]]:
    """Each page's URLs, one per object of the world it shows."""
    with portal.sessions() as session:  # type: ignore[attr-defined]
        values = {
            "application_id": [str(i) for i in session.scalars(select(Application.id))],
            "grant_id": list(session.scalars(select(Grant.id))),
            "request_id": [str(i) for i in session.scalars(select(ExportRequest.id))],
            "dataset_id": list(session.scalars(select(Dataset.id))),
        }
    found: dict[str, list[str]] = {}
    for route in routes:
        names = re.findall(r"{(\w+)}", route.path)
        missing = [n for n in names if n not in values]
        assert not missing, f"{route.path}: give the crawl values for {missing}"
        paths = [route.path]
        for name in names:
            paths = [p.replace(f"{{{name}}}", v) for p in paths for v in values[name]]
        found[route.path] = paths
    return found


def test_the_crawl_finds_every_page() -> None:
    paths = {r.path for r in html_pages()}
    assert {"/", "/catalog", "/audit", "/grants/{grant_id}", "/destruction/{grant_id}"} <= paths


def test_the_detector_sees_what_it_should() -> None:
    assert wrong_language("<p>提交</p><p>Approve</p>", "zh") == ["Approve"]
    assert wrong_language('<p>批准 <span translate="no">officer</span></p>', "zh") == []
    assert wrong_language("<p>Grant 生效</p>", "en") == ["Grant 生效"]
    assert wrong_language("<td>file_type</td>", "en") == ["file_type"]
    assert wrong_language('<select title="类型"><option>x</option></select>', "en") == ["类型"]
    assert wrong_language("<p>SHA-256 摘要 · L2 · v3</p>", "zh") == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_as_every_role_is_in_its_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lang: str
) -> None:
    with world_portal(tmp_path, monkeypatch) as portal:
        for _ in build(portal, tmp_path):
            pass
        client = TestClient(app_for(portal, USERS), follow_redirects=False)
        routes = html_pages()
        problems: dict[str, list[str]] = {}
        shown: dict[str, int] = {}
        for route, paths in urls(portal, routes).items():
            for path in paths:
                for user in ["", *USERS]:
                    headers = auth_header(user) if user else {}
                    response = client.get(PREFIX + path, params={"lang": lang}, headers=headers)
                    assert response.status_code < 500, (path, user, response.text)
                    if response.status_code != 200:
                        continue
                    shown[route] = shown.get(route, 0) + 1
                    wrong = wrong_language(response.text, lang)
                    if wrong:
                        problems[f"{path} as {user or 'anonymous'}"] = wrong
        assert set(shown) == {r.path for r in routes}, "some page was never shown"
        by_text: dict[str, str] = {}
        for page, texts in problems.items():
            for text in texts:
                by_text.setdefault(text, page)
        assert not by_text, "texts not in the page's language, and a page showing each:\n" + (
            "\n".join(f"{text!r} on {page}" for text, page in by_text.items())
        )
