"""The workspace client against the real portal over HTTP, with a real workspace credential:
exports in one step (or a clear account of what is missing and where to finish), and the DP
accuracy preview. Nothing is stood in for but the hub."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from factories import add_dataset, join_team, portal_at, submitted_application
from fastapi.testclient import TestClient
from hub_users import PREFIX, app_for, auth_header
from served import served

from open_portal import ledger
from open_portal.models import Decision, ExportRequest, ExportStatus, Level
from open_portal.service import applications, workspace_credentials
from open_portal.service.context import Portal
from sandbox import client, dp

DP_SCHEMA = {
    "columns": {
        "district": {"type": "categorical", "domain": ["西湖区", "上城区"]},
        "payment": {"type": "numeric", "lower": 0, "upper": 3000},
    },
    "max_query_epsilon": "1",
}
SAFE_TABLE = "区,人数\n西湖区,120\n上城区,95\n合计,215\n"
SMALL_CELLS = "区,人数\n西湖区,120\n上城区,7\n合计,127\n"
USERS = ["researcher", "owner", "officer"]


@pytest.fixture
def portal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Portal]:
    data = tmp_path / "data"
    monkeypatch.setenv("PDS_DATA_DIR", str(data))
    monkeypatch.setenv("PDS_WORKSPACE_ROOT", str(tmp_path / "workspaces"))
    monkeypatch.setenv("PDS_WORKSPACE_RUN_DIR", str(tmp_path / "run"))
    monkeypatch.delenv("JUPYTERHUB_API_URL", raising=False)
    monkeypatch.delenv("JUPYTERHUB_API_TOKEN", raising=False)
    with portal_at(data, f"sqlite:///{tmp_path / 'p.sqlite'}") as p:
        add_dataset(p, "tickets", Level.L2, publisher="hotline")
        add_dataset(p, "payments", Level.L3, publisher="hrss", dp_schema=DP_SCHEMA)
        p.policy.assign_role("owner", "owner", "dept:hotline")
        p.policy.assign_role("owner", "owner", "dept:hrss")
        yield p


def grant(portal: Portal, dataset: str, level: Level) -> str:
    app_id = submitted_application(portal, [dataset], level, epsilon="2", team_members=[])
    for reviewer in ("owner", "officer") if level == Level.L3 else ("owner",):
        applications.review(
            portal, actor=reviewer, application_id=app_id, decision=Decision.APPROVE
        )
    join_team(portal, f"g{app_id:04d}", [])
    return f"g{app_id:04d}"


@pytest.fixture
def workspace(
    portal: Portal, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, Path]]:
    """A researcher's workspace of an L2 grant as the client sees it: its home is the host's
    workspace volume (so ``client.outbox()`` is the folder the portal reads), its portal the real
    one, its credential a real one."""
    grant_id = grant(portal, "tickets", Level.L2)
    home = tmp_path / "workspaces" / grant_id / "home"
    home.mkdir(parents=True)
    token = workspace_credentials.issue(portal, grant_id=grant_id, user="researcher")
    with served(app_for(portal, USERS)) as url:
        monkeypatch.setenv("PDS_PORTAL_URL", url)
        monkeypatch.setenv("PDS_WORKSPACE_TOKEN", token)
        monkeypatch.setenv("JUPYTERHUB_SERVER_NAME", grant_id)
        monkeypatch.setenv("HOME", str(home))
        yield grant_id, home


def requests_of(portal: Portal) -> list[ExportRequest]:
    with portal.sessions() as session:
        return list(session.query(ExportRequest).all())


@pytest.mark.parametrize(
    ("kwargs", "said"),
    [
        ({"justification": "Figure 2", "controls": ""}, "controls is required"),
        ({"justification": " ", "controls": "suppressed"}, "justification is required"),
        ({}, "请填写 justification"),
        ({"justification": "x" * 4001, "controls": "c"}, "longer than 4000"),
    ],
)
def test_what_the_form_requires_is_asked_before_anything_is_sent(
    portal: Portal, workspace: tuple[str, Path], kwargs: dict[str, Any], said: str
) -> None:
    (client.outbox() / "table.csv").write_text(SAFE_TABLE)
    with pytest.raises(client.ClientError, match=said) as refused:
        client.request_export(["table.csv", "nothing.csv"], **kwargs)
    assert "'nothing.csv' is not a file in outbox/" in str(refused.value)
    assert "导出申请未发送" in str(refused.value)
    assert requests_of(portal) == []  # no silent draft


def test_a_complete_request_is_submitted_in_one_step(
    portal: Portal, workspace: tuple[str, Path]
) -> None:
    (client.outbox() / "table.csv").write_text(SAFE_TABLE)
    request_id = client.request_export(
        ["table.csv"], justification="Figure 2: tickets by district", controls="no cell below 10"
    )
    [request] = requests_of(portal)
    assert str(request.id) == request_id and request.status == ExportStatus.SUBMITTED
    types = [e.type for _, e in portal.audit.entries()]
    assert types.count("export.requested") == 1 and types.count("export.submitted") == 1


def test_a_failing_check_says_what_is_missing_and_where_to_finish(
    portal: Portal, workspace: tuple[str, Path]
) -> None:
    (client.outbox() / "small.csv").write_text(SMALL_CELLS)
    with pytest.raises(client.ExportNotSubmitted) as held:
        client.request_export(["small.csv"], justification="Table 3", controls="none yet")
    [request] = requests_of(portal)
    assert request.status == ExportStatus.PENDING
    said = held.value
    assert said.request_id == str(request.id)
    assert said.url == f"http://127.0.0.1:{portal.settings.port}{PREFIX}/exports/{request.id}"
    assert [(m["field"], m["file"]) for m in said.missing] == [("answer", "small.csv")]
    assert "尚未提交审核" in str(said) and "not submitted" in str(said) and said.url in str(said)
    assert "small.csv" in str(said)
    # the request's page shows the same thing next to the submit button, which is disabled
    browser = TestClient(app_for(portal, USERS), follow_redirects=False)
    page = browser.get(f"{PREFIX}/exports/{request.id}?lang=en", headers=auth_header("researcher"))
    assert 'id="submit-missing"' in page.text
    assert "answer the failing checks of small.csv" in page.text
    assert 'id="submit" disabled' in page.text


def test_the_page_of_a_request_missing_its_controls_lists_them(
    portal: Portal, workspace: tuple[str, Path]
) -> None:
    """What ``submit=False`` saves (or an older client sent) is finished on the page, which says
    what is missing instead of answering the submit with an error page."""
    (client.outbox() / "table.csv").write_text(SAFE_TABLE)
    request_id = client.request_export(
        ["table.csv"], justification="Figure 2", controls="rounded", submit=False
    )
    browser = TestClient(app_for(portal, USERS), follow_redirects=False)
    page = browser.get(f"{PREFIX}/exports/{request_id}", headers=auth_header("researcher"))
    assert 'id="submit-missing"' not in page.text  # nothing missing: it may be submitted
    assert 'id="submit">' in page.text
    with portal.sessions.begin() as session:
        request = session.get(ExportRequest, int(request_id))
        assert request is not None
        request.groups = {"default": {"context": "Figure 2", "controls": ""}}
    page = browser.get(f"{PREFIX}/exports/{request_id}", headers=auth_header("researcher"))
    assert "请填写文件组「default」已采取的披露控制措施" in page.text
    assert 'textarea name="controls" required' in page.text


def test_accuracy_preview_from_the_workspace_spends_nothing(
    portal: Portal, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    grant_id = grant(portal, "payments", Level.L3)
    token = workspace_credentials.issue(portal, grant_id=grant_id, user="researcher")
    with served(app_for(portal, USERS)) as url:
        monkeypatch.setenv("PDS_PORTAL_URL", url)
        monkeypatch.setenv("PDS_WORKSPACE_TOKEN", token)
        monkeypatch.setenv("JUPYTERHUB_SERVER_NAME", grant_id)
        wanted = dp.preview("payments", "sum", column="payment", ci95=50_000)
        at = dp.preview("payments", "count", epsilon=0.5)
        capped = dp.preview("payments", "mean", column="payment", ci95=0.01, rows=100)
    assert wanted.reachable and wanted.ci95 <= 50_000 and 0 < wanted.epsilon <= 1
    assert at.ci95 == 6 and at.epsilon == 0.5  # geometric noise at ε 0.5: ±6
    assert not capped.reachable and capped.epsilon == 1
    assert "ε 0.5 → ±6 (95%)" in repr(at) and "ε left 2" in repr(at)
    assert "per-query cap" in repr(capped)
    assert ledger.charges(portal.engine, grant_id) == []


def test_answers_are_shown_as_rounded_as_they_are_released() -> None:
    answer = dp.Answer(
        value=670_000.0,
        epsilon=0.5,
        error_scale=200_000.0,
        ci95=431_500.0,
        remaining_budget=1.5,
        mechanism="snapping",
    )
    assert repr(answer) == "670,000 ±440,000 (95%) [ε 0.5 via snapping, ε left 1.5]"
