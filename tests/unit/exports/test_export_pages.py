"""What reviewers see of a file (escaped, images inline, HTML and PDF in a sandbox), and the export
routes without a login."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from factories import portal_at
from fastapi.testclient import TestClient
from jupyterhub.services.auth import HubOAuth

from open_portal.app import create_app
from open_portal.auth import HubSSO, Signer
from open_portal.previews import notebook_html, render_preview

PREFIX = "/services/portal"
PNG_1PX = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="


def test_a_table_is_rendered_escaped() -> None:
    shown = render_preview("csv", "区,人数\n<b>西湖区</b>,120\n".encode(), "x")
    assert "<th>区</th><th>人数</th>" in shown
    assert "<td>&lt;b&gt;西湖区&lt;/b&gt;</td>" in shown and "<b>" not in shown


def test_a_notebook_is_rendered_with_its_outputs() -> None:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("plot()")
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={"image/png": PNG_1PX, "text/html": "<script>alert(1)</script>"},
        ),
        nbformat.v4.new_output("stream", name="stdout", text="mean 41.2\n"),
    ]
    nb.cells = [nbformat.v4.new_markdown_cell("# 结果"), cell]
    shown = notebook_html(nbformat.writes(nb).encode())
    assert "# 结果" in shown and "plot()" in shown and "mean 41.2" in shown
    assert f"data:image/png;base64,{PNG_1PX}" in shown
    assert "<script>" not in shown


@pytest.mark.parametrize("kind", ["png", "jpeg", "svg"])
def test_images_are_shown_from_the_held_copy(kind: str) -> None:
    assert render_preview(kind, b"", "/f/1").startswith('<img class="preview" src="/f/1" alt="">')


@pytest.mark.parametrize("kind", ["svg", "html"])
def test_svg_and_html_are_shown_as_their_source_too(kind: str) -> None:
    """What the rendering hides (a comment, a hidden element) is on the review page, escaped."""
    shown = render_preview(kind, b"<svg><!-- rows --><script>x</script></svg>", "/f/1")
    assert "&lt;!-- rows --&gt;" in shown and "<script>" not in shown


@pytest.mark.parametrize("kind", ["html", "pdf"])
def test_html_and_pdf_are_shown_in_a_sandboxed_frame(kind: str) -> None:
    assert '<iframe class="preview" sandbox' in render_preview(kind, b"<script>", "/f/1")


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with portal_at(tmp_path / "data", f"sqlite:///{tmp_path / 'p.sqlite'}") as portal:
        hub_auth = HubOAuth(
            api_token="not-used",
            oauth_client_id="service-portal",
            api_url="http://127.0.0.1:9/hub/api",
        )
        sso = HubSSO(hub_auth, Signer(b"s" * 32), PREFIX + "/")
        with TestClient(create_app(portal, sso, prefix=PREFIX), follow_redirects=False) as c:
            yield c


@pytest.mark.parametrize(
    "path", ["/exports", "/exports/1", "/exports/1/release", "/destruction/g0001"]
)
def test_pages_need_a_login(client: TestClient, path: str) -> None:
    response = client.get(PREFIX + path)
    assert response.status_code == 302
    assert response.headers["location"].startswith(f"{PREFIX}/login?next=")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/exports"),
        ("get", "/api/exports/1/release"),
        ("post", "/api/exports/1/submit"),
        ("post", "/api/workspace/grants/g0001/exports"),
        ("get", "/api/destruction/g0001/certificate"),
        ("post", "/api/destruction/g0001"),
        ("get", "/exports/1/files/1/download"),
    ],
)
def test_api_needs_a_login(client: TestClient, method: str, path: str) -> None:
    response = getattr(client, method)(PREFIX + path, headers={"accept": "application/json"})
    assert response.status_code == 401


def test_requesters_see_outcomes_and_counts_of_checks_never_content() -> None:
    from open_portal.service.exports import check_summary

    failing = {
        "check": "disclosure.min_cell_count",
        "passed": False,
        "message": "1 cells fail the minimum: 张伟 13812345678 · 人数",
        "message_zh": "1 个单元格不满足：张伟 13812345678 · 人数",
        "details": {"cells": ["张伟 13812345678 · 人数"], "failing": 1, "columns": ["张伟"]},
    }
    shown = check_summary(failing)
    assert shown["passed"] is False and shown["details"] == {"failing": 1}
    assert "13812345678" not in str(shown) and "张伟" not in str(shown)
    personal = {
        "check": "personal_data",
        "passed": False,
        "message": "x",
        "message_zh": "x",
        "details": {"entities": {"PHONE_NUMBER": 2}, "examples": [{"text": "138****5678"}]},
    }
    assert check_summary(personal)["details"] == {"entities": {"PHONE_NUMBER": 2}}
    assert "PHONE_NUMBER × 2" in check_summary(personal)["message"]
