"""Export and destruction through the running platform: the workspace endpoint with a hub token,
the officer's pages, votes, release and download, the certificate verified with the CLI."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from running_platform import RunningHub, running_hub

pytestmark = pytest.mark.integration
PDS = str(Path(sys.executable).parent / "pds")
TABLE = "区,人数\n西湖区,120\n上城区,7\n合计,127\n"


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningHub, Path]]:
    root = tmp_path_factory.mktemp("exports-platform")
    workspaces = root / "workspaces"
    env = {"PDS_WORKSPACE_ROOT": str(workspaces), "PDS_WORKSPACE_RUN_DIR": str(root / "run")}
    with running_hub(root / "var", extra_env=env) as hub:
        yield hub, workspaces


def test_export_review_release_and_destruction(platform: tuple[RunningHub, Path]) -> None:
    hub, workspaces = platform
    with (
        hub.api("researcher") as researcher,
        hub.api("owner") as owner,
        hub.api("officer") as officer,
    ):
        walk_through(hub, workspaces, researcher, owner, officer)


def walk_through(
    hub: RunningHub,
    workspaces: Path,
    researcher: httpx.Client,
    owner: httpx.Client,
    officer: httpx.Client,
) -> None:
    today = dt.date.today()
    application = researcher.post(
        "/api/applications",
        params={"submit": "true"},
        json={
            "kind": "person",
            "dataset_ids": ["hotline-tickets"],
            "purpose": "研究热线诉求的区域分布",
            "level": "L2",
            "starts_on": today.isoformat(),
            "ends_on": (today + dt.timedelta(days=30)).isoformat(),
            "agreement_accepted": True,
            "commitment_accepted": True,
        },
    )
    assert application.status_code == 201, application.text
    app_id = application.json()["id"]
    assert owner.post(f"/api/applications/{app_id}/approve").status_code == 200
    grant_id = f"g{app_id:04d}"

    box = workspaces / grant_id / "home" / "outbox"
    box.mkdir(parents=True)
    (box / "table.csv").write_text(TABLE, encoding="utf-8")
    # what sandbox.client.request_export sends from inside the workspace
    created = researcher.post(
        f"/api/workspace/grants/{grant_id}/exports",
        json={"files": ["table.csv"], "justification": "表 1：各区诉求量"},
    )
    assert created.status_code == 201, created.text
    request = created.json()
    rid, fid = request["id"], request["files"][0]["id"]
    assert request["status"] == "pending"
    assert request["files"][0]["failing"] == ["disclosure.min_cell_count"]
    assert researcher.post(f"/api/exports/{rid}/submit").status_code == 422  # not answered yet
    (box / "table.csv").write_text("姓名,手机\n张伟,13812345678\n", encoding="utf-8")
    answered = researcher.post(
        f"/api/exports/{rid}/files/{fid}/answer", json={"response": "上城区将与相邻区合并"}
    )
    assert answered.status_code == 200
    assert researcher.post(f"/api/exports/{rid}/submit").status_code == 422  # no controls yet
    # controls are given on the request page's group form; through the API, a new request
    request = researcher.post(
        f"/api/workspace/grants/{grant_id}/exports",
        json={
            "files": ["table.csv"],
            "justification": "表 1",
            "controls": "小于 10 的单元格已合并",
        },
    ).json()
    rid, fid = request["id"], request["files"][0]["id"]
    assert "personal_data" in request["files"][0]["failing"]
    (box / "figure.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>", encoding="utf-8")
    more = researcher.post(f"/api/exports/{rid}/files", json={"files": ["figure.svg"]})
    assert more.status_code == 200, more.text
    svg = more.json()["files"][1]
    assert svg["name"] == "figure.svg" and svg["failing"] == []
    again = researcher.post(f"/api/exports/{rid}/files", json={"files": ["figure.svg"]})
    assert again.status_code == 422
    researcher.post(f"/api/exports/{rid}/files/{fid}/answer", json={"response": "误放，将撤回"})
    assert researcher.post(f"/api/exports/{rid}/submit").json()["status"] == "submitted"

    page = officer.get(f"/exports/{rid}")
    assert page.status_code == 200
    assert "<td>13812345678</td>" in page.text  # the held copy, rendered as a table
    assert "<td>个人信息</td>" in page.text and "vote-approve" in page.text  # the check, by name
    queue = officer.get("/exports")
    assert f"/exports/{rid}" in queue.text
    raw = officer.get(f"/exports/{rid}/files/{fid}")
    assert raw.headers["content-security-policy"].startswith("sandbox")
    assert researcher.post(f"/api/exports/{rid}/files/{fid}/approve").status_code == 403

    officer.post(f"/api/exports/{rid}/files/{fid}/approve")
    assert officer.post(f"/api/exports/{rid}/complete_review").status_code == 422  # svg unvoted
    officer.post(f"/api/exports/{rid}/files/{svg['id']}/approve")
    assert officer.post(f"/api/exports/{rid}/complete_review").json()["status"] == "reviewed"
    assert officer.post(f"/api/exports/{rid}/approve").json()["status"] == "approved"
    assert officer.post(f"/api/exports/{rid}/release").json()["status"] == "released"
    download = researcher.get(f"/exports/{rid}/files/{fid}/download")
    assert download.status_code == 200 and "13812345678" in download.text
    assert officer.get(f"/exports/{rid}/files/{fid}/download").status_code == 403
    release = researcher.get(f"/exports/{rid}/release")
    assert release.status_code == 200 and "inclusion_proof" in release.text

    assert researcher.post(f"/api/grants/{grant_id}/end").status_code == 200
    asked = researcher.post(f"/api/destruction/{grant_id}")  # the holder asks, an officer confirms
    assert asked.status_code == 200 and asked.json()["status"] == "requested"
    assert researcher.post(f"/api/destruction/{grant_id}").status_code == 403
    bundle = officer.post(f"/api/destruction/{grant_id}", json={"reason": "项目结束"})
    assert bundle.status_code == 200, bundle.text
    assert not (workspaces / grant_id).exists()
    assert researcher.get(f"/exports/{rid}/files/{fid}/download").status_code in (403, 404)
    page = researcher.get(f"/destruction/{grant_id}")
    assert page.status_code == 200 and "grant.destroyed" in page.text

    file = hub.data_dir.parent / "certificate.json"
    file.write_text(json.dumps(researcher.get(f"/api/destruction/{grant_id}/certificate").json()))
    env = {**os.environ, "PDS_DATA_DIR": str(hub.data_dir)}
    checked = subprocess.run(
        [PDS, "audit", "verify-certificate", str(file)], env=env, capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr
    assert httpx.get(f"{hub.portal}/exports", timeout=30).status_code == 302
