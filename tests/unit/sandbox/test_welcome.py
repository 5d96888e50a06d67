"""The workspace's welcome: JupyterLab's settings in the member's language without network
prompts, and a welcome notebook with the grant's facts and examples, placed without following
anything the workspace account made."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import nbformat
import pytest

from sandbox import welcome
from sandbox.grants import WorkspaceDataset, WorkspaceGrant

GRANT = WorkspaceGrant(
    grant_id="g0007",
    user="researcher",
    level="L2",
    active=True,
    ends_at=datetime(2027, 2, 27, 16, 0, tzinfo=UTC),  # 2027-02-28 00:00 in Shanghai
    release_dir=None,
    datasets=(
        WorkspaceDataset("hotline-tickets", "热线工单", "Hotline tickets", "L2"),
        WorkspaceDataset(
            "payments",
            "社保缴费",
            "Payments",
            "L3",
            numeric=("payment",),
            categorical=("district",),
        ),
    ),
    epsilon_budget="2",
    last_day="2027-02-27",
)


@pytest.mark.parametrize(
    ("options", "cookie", "lang"),
    [
        ({"lang": "en"}, "zh", "en"),
        ({}, "en", "en"),
        (None, None, "zh"),
        ({"lang": "fr"}, "<script>", "zh"),
    ],
)
def test_the_language_comes_from_the_spawn_or_the_portals_cookie(
    options: dict[str, str] | None, cookie: str | None, lang: str
) -> None:
    assert welcome.language(options, cookie) == lang


@pytest.mark.parametrize(("lang", "locale"), [("zh", "zh_CN"), ("en", "en")])
def test_lab_settings_follow_the_language_and_fetch_nothing(
    tmp_path: Path, lang: str, locale: str
) -> None:
    welcome.write_lab_config(tmp_path, lang)
    server = json.loads((tmp_path / "jupyter/jupyter_server_config.json").read_text())
    assert server["LabApp"] == {
        "app_settings_dir": welcome.LAB_SETTINGS,
        "news_url": None,
        "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
    }
    assert welcome.LAB_SETTINGS == "/etc/jupyter/lab/settings"  # tmp_path stands for /etc
    overrides = json.loads((tmp_path / "jupyter/lab/settings/overrides.json").read_text())
    assert overrides["@jupyterlab/translation-extension:plugin"] == {"locale": locale}
    assert overrides["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"
    page = json.loads((tmp_path / "jupyter/labconfig/page_config.json").read_text())
    assert page["disabledExtensions"] == {"@jupyterlab/apputils-extension:announcements": True}
    for path in (tmp_path / "jupyter").rglob("*"):
        assert path.stat().st_mode & 0o777 == (0o755 if path.is_dir() else 0o644)


def test_the_zh_notebook_states_the_grants_facts() -> None:
    nb = welcome.notebook(GRANT, "zh")
    nbformat.validate(nb)
    first = nb.cells[0].source
    assert "欢迎使用授权 g0007 的工作空间" in first
    assert "**2027-02-27**" in first and "24:00" in first
    assert "**ε 2**" in first
    assert '| `hotline-tickets` | 热线工单 | L2 | `client.load("hotline-tickets")` |' in first
    assert "| `payments` | 社保缴费 | L3 | 差分隐私查询 `dp.…` |" in first
    sources = "\n".join(c.source for c in nb.cells)
    assert 'client.load("hotline-tickets")' in sources
    assert 'dp.preview("payments", "count", ci95=10)' in sources
    assert 'dp.group_sum("payments", "payment", by=["district"], epsilon=0.5)' in sources
    assert "client.request_export(" in sources and "controls=" in sources
    assert "## 导出结果" in sources


def test_the_en_notebook_and_a_grant_without_dp() -> None:
    no_dp = WorkspaceGrant(
        grant_id="g0008",
        user="researcher",
        level="L2",
        active=True,
        ends_at=datetime(2027, 3, 1, tzinfo=UTC),
        release_dir=None,
        datasets=(WorkspaceDataset("hotline-tickets", "热线工单", "Hotline tickets", "L2"),),
    )
    nb = welcome.notebook(no_dp, "en")
    first = nb.cells[0].source
    assert "Welcome to the workspace of grant g0008" in first
    assert "**2027-02-28**" in first  # from ends_at when the portal gave no last day
    assert "none: this grant makes no DP queries" in first
    assert "dp.preview" not in "\n".join(c.source for c in nb.cells)
    # every example runs as Python
    for cell in nb.cells:
        if cell.cell_type == "code":
            compile(cell.source, "<welcome>", "exec")


def test_the_notebook_is_placed_once_and_follows_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    uid, gid = os.getuid(), os.getgid()
    assert welcome.place_notebook(home, GRANT, "zh", uid, gid)
    placed = home / welcome.NOTEBOOK
    assert placed.stat().st_mode & 0o777 == 0o600
    assert "g0007" in nbformat.read(placed, as_version=4).cells[0].source
    placed.write_text("edited by the member")
    assert not welcome.place_notebook(home, GRANT, "en", uid, gid)
    assert placed.read_text() == "edited by the member"  # kept as the member left it
    # a link planted where the notebook goes is not followed
    target = tmp_path / "outside.txt"
    target.write_text("host file")
    placed.unlink()
    placed.symlink_to(target)
    assert not welcome.place_notebook(home, GRANT, "zh", uid, gid)
    assert target.read_text() == "host file"
    # nor is a home that is a link
    linked = tmp_path / "linked-home"
    linked.symlink_to(tmp_path)
    with pytest.raises(OSError):
        welcome.place_notebook(linked, GRANT, "zh", uid, gid)
