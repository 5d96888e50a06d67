"""Held export files are for the officers who review the request, through the real platform.

An attacker in a workspace puts record-level data in ``outbox/``, asks for its export and tries to
read the held copy back before any officer looked at it: from the file route, the request page's
previews, the JSON API (check messages quote the file) or the download. Every GET route under
``/exports`` and ``/api/exports`` is walked, as every role and in every request state; the bytes
(a marker in a cell that fails the disclosure check) reach only a reviewing officer, and members
only through the download after release. Every read of held bytes is one audit event.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from running_platform import RunningHub, running_hub

from open_portal.routes.exports import router

pytestmark = pytest.mark.integration


def table(marker: str) -> str:
    """A cell of 3 fails the minimum cell count: the failing check quotes its row label."""
    return f"区,人数\n{marker},3\n上城区,95\n"


def marker(grant_id: str) -> str:
    return f"XQZ7-held-{grant_id}"


ROLES = ("researcher", "operator", "owner", "officer", "officer2", "admin", "anonymous")
READABLE = {"submitted", "partially_reviewed", "reviewed", "returned", "approved", "released"}
# routes that serve held bytes (audited) and those that show check details quoting them
HELD_ROUTES = {"/exports/{request_id}", "/exports/{request_id}/files/{file_id}"}
REVIEWER_ROUTES = {*HELD_ROUTES, "/api/exports", "/api/exports/{request_id}"}


def byte_routes() -> list[str]:
    """Every GET route of the export router for one request (the enumeration under test)."""
    paths = []
    for route in router.routes:
        path = getattr(route, "path", "")
        methods = getattr(route, "methods", set())
        if "GET" in methods and path.startswith(("/exports", "/api/exports")):
            paths.append(path)
    assert {"/exports/{request_id}/files/{file_id}", "/api/exports/{request_id}"} <= set(paths)
    return sorted(paths)


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningHub, Path]]:
    root = tmp_path_factory.mktemp("held-files")
    workspaces = root / "workspaces"
    env = {"PDS_WORKSPACE_ROOT": str(workspaces), "PDS_WORKSPACE_RUN_DIR": str(root / "run")}
    with running_hub(root / "var", extra_env=env) as hub:
        yield hub, workspaces


def grant(hub: RunningHub, dataset: str, level: str, team: list[str]) -> str:
    today = dt.date.today()
    with hub.api("researcher") as researcher, hub.api("owner") as owner:
        created = researcher.post(
            "/api/applications",
            params={"submit": "true"},
            json={
                "kind": "person",
                "dataset_ids": [dataset],
                "purpose": "导出暂存文件的访问控制测试",
                "level": level,
                "starts_on": today.isoformat(),
                "ends_on": (today + dt.timedelta(days=30)).isoformat(),
                "epsilon": "1" if level == "L3" else "0",
                "team_members": team,
                "agreement_accepted": True,
                "commitment_accepted": True,
            },
        )
        assert created.status_code == 201, created.text
        app_id = created.json()["id"]
        assert owner.post(f"/api/applications/{app_id}/approve").status_code == 200
    if level == "L3":
        with hub.api("officer") as officer:
            assert officer.post(f"/api/applications/{app_id}/approve").status_code == 200
    for member in team:  # team members join only by accepting the invitation
        with hub.api(member) as invited:
            joined = invited.post(f"/api/grants/g{app_id:04d}/accept")
            assert joined.status_code == 200, joined.text
    return f"g{app_id:04d}"


def request_in(
    clients: dict[str, httpx.Client], workspaces: Path, grant_id: str, state: str
) -> tuple[int, int]:
    """A request of ``grant_id`` (one file holding the marker) brought to ``state``."""
    researcher, officer = clients["researcher"], clients["officer"]
    box = workspaces / grant_id / "home" / "outbox"
    box.mkdir(parents=True, exist_ok=True)
    (box / "table.csv").write_text(table(marker(grant_id)), encoding="utf-8")
    created = researcher.post(
        f"/api/workspace/grants/{grant_id}/exports",
        json={"files": ["table.csv"], "justification": "表 1", "controls": "已汇总"},
    )
    assert created.status_code == 201, created.text
    rid, fid = created.json()["id"], created.json()["files"][0]["id"]

    def ok(client: httpx.Client, path: str, **body: str) -> None:
        response = client.post(f"/api/exports/{rid}{path}", json=body or None)
        assert response.status_code == 200, (path, response.text)

    if state == "pending":
        return rid, fid
    if state == "withdrawn":
        ok(researcher, "/withdraw")
        return rid, fid
    ok(researcher, f"/files/{fid}/answer", response="上城区将合并")
    ok(researcher, "/submit")
    if state == "submitted":
        return rid, fid
    if state == "returned":
        ok(officer, "/return", comment="请合并小单元格")
        return rid, fid
    ok(officer, f"/files/{fid}/approve")
    ok(officer, "/complete_review")
    if state == "partially_reviewed":
        return rid, fid
    if state == "reviewed":
        return rid, fid
    if state == "rejected":
        ok(officer, "/reject", comment="不予导出")
        return rid, fid
    ok(officer, "/approve")
    if state == "approved":
        return rid, fid
    ok(officer, "/release")
    assert state == "released"
    return rid, fid


def held_reads(officer: httpx.Client, grant_id: str) -> list[dict[str, object]]:
    events = officer.get(
        "/api/audit/events", params={"grant": grant_id, "type": "export.file_viewed", "limit": 1000}
    )
    assert events.status_code == 200, events.text
    return list(events.json())


STATES_L2 = (
    "pending",
    "submitted",
    "returned",
    "reviewed",
    "approved",
    "released",
    "rejected",
    "withdrawn",
)


@pytest.mark.parametrize("state", [*STATES_L2, "partially_reviewed"])
def test_only_reviewing_officers_read_held_bytes(
    platform: tuple[RunningHub, Path], state: str
) -> None:
    hub, workspaces = platform
    level, dataset = (
        ("L3", "social-insurance-payments")
        if state == "partially_reviewed"
        else (
            "L2",
            "hotline-tickets",
        )
    )
    # officer2 is a member of the L2 grant: an officer who belongs to it never reviews it
    team = ["operator"] if level == "L3" else ["operator", "officer2"]
    grant_id = grant(hub, dataset, level, team)
    members = {"researcher", *team}
    reviewers = {"officer", "officer2"} - members
    downloaders = members - {"officer2"}  # download is for members as researchers or operators
    secret = marker(grant_id)
    clients = {r: hub.api(r) for r in ROLES if r != "anonymous"}
    clients["anonymous"] = httpx.Client(base_url=hub.portal, timeout=60)
    try:
        rid, fid = request_in(clients, workspaces, grant_id, state)
        for role in ROLES:
            client = clients[role]
            before = len(held_reads(clients["officer"], grant_id))
            expected_reads = 0
            for route in byte_routes():
                path = route.format(request_id=rid, file_id=fid)
                response = client.get(path)
                got = response.status_code == 200 and secret in response.text
                may = (route in REVIEWER_ROUTES and role in reviewers and state in READABLE) or (
                    route.endswith("/download") and role in downloaders and state == "released"
                )
                assert got == may, (role, state, path, response.status_code)
                if got and route in HELD_ROUTES:
                    expected_reads += 1
                if route.endswith("/files/{file_id}") and not may:
                    assert response.status_code in (302, 403, 404), (role, path)
            after = held_reads(clients["officer"], grant_id)
            assert len(after) - before == expected_reads, (role, state)
            for event in after[: len(after) - before]:
                assert event["actor"] == role
    finally:
        for client in clients.values():
            client.close()


def test_requesters_see_check_outcomes_without_content(platform: tuple[RunningHub, Path]) -> None:
    hub, workspaces = platform
    grant_id = grant(hub, "hotline-tickets", "L2", ["operator"])
    with hub.api("researcher") as researcher:
        box = workspaces / grant_id / "home" / "outbox"
        box.mkdir(parents=True, exist_ok=True)
        (box / "table.csv").write_text(table(marker(grant_id)), encoding="utf-8")
        shown = researcher.post(
            f"/api/workspace/grants/{grant_id}/exports", json={"files": ["table.csv"]}
        ).json()
        file = shown["files"][0]
        assert file["name"] == "table.csv" and file["size"] == len(table(marker(grant_id)).encode())
        assert re.fullmatch(r"[0-9a-f]{64}", file["sha256"])
        assert file["failing"] == ["disclosure.min_cell_count"]
        assert marker(grant_id) not in str(shown)
        page = researcher.get(f"/exports/{shown['id']}")
        assert page.status_code == 200 and marker(grant_id) not in page.text
        assert "table.csv" in page.text and file["sha256"] in page.text


def test_bytes_hidden_where_no_reviewer_looks_never_leave(
    platform: tuple[RunningHub, Path],
) -> None:
    """After a PNG's end, in notebook metadata or an unshown output type: removed at intake, so
    neither the reviewer's view nor the released download carries them."""
    import io

    import nbformat
    from PIL import Image

    hub, workspaces = platform
    grant_id = grant(hub, "hotline-tickets", "L2", ["operator"])
    hidden = marker(grant_id)
    image = io.BytesIO()
    Image.new("RGB", (3, 3), (9, 9, 9)).save(image, format="PNG")
    nb = nbformat.v4.new_notebook()
    nb.metadata["x"] = hidden
    cell = nbformat.v4.new_code_cell("plot()")
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={
                "text/plain": "fig",
                "application/x-hidden": f"caller {hidden}",
            },
        )
    ]
    nb.cells = [cell]
    box = workspaces / grant_id / "home" / "outbox"
    box.mkdir(parents=True, exist_ok=True)
    (box / "fig.png").write_bytes(image.getvalue() + hidden.encode())
    (box / "nb.ipynb").write_text(nbformat.writes(nb), encoding="utf-8")
    with hub.api("researcher") as researcher, hub.api("officer") as officer:
        created = researcher.post(
            f"/api/workspace/grants/{grant_id}/exports",
            json={"files": ["fig.png", "nb.ipynb"], "justification": "图", "controls": "无"},
        )
        assert created.status_code == 201, created.text
        rid = created.json()["id"]
        assert researcher.post(f"/api/exports/{rid}/submit").status_code == 200
        for file in created.json()["files"]:
            held = officer.get(f"/exports/{rid}/files/{file['id']}")
            assert held.status_code == 200 and hidden.encode() not in held.content
            assert officer.post(f"/api/exports/{rid}/files/{file['id']}/approve").status_code == 200
        page = officer.get(f"/exports/{rid}")
        assert hidden not in page.text and "plot()" in page.text
        assert officer.post(f"/api/exports/{rid}/complete_review").status_code == 200
        assert officer.post(f"/api/exports/{rid}/approve").status_code == 200
        assert officer.post(f"/api/exports/{rid}/release").status_code == 200
        for file in created.json()["files"]:
            out = researcher.get(f"/exports/{rid}/files/{file['id']}/download")
            assert out.status_code == 200 and hidden.encode() not in out.content


def test_free_text_is_bounded_with_a_clear_refusal(platform: tuple[RunningHub, Path]) -> None:
    """A megabyte comment would be a channel out that no reviewer reads: refused, nothing kept."""
    hub, workspaces = platform
    grant_id = grant(hub, "hotline-tickets", "L2", ["operator"])
    box = workspaces / grant_id / "home" / "outbox"
    box.mkdir(parents=True, exist_ok=True)
    (box / "t.csv").write_text(table("西湖区"), encoding="utf-8")
    megabyte = "x" * 1_000_000  # over the body cap: refused before anything parses it
    over = "x" * 5_000  # under the body cap, over the field's limit
    with hub.api("researcher") as researcher:
        for text, status in ((megabyte, 413), (over, 422)):
            long = researcher.post(
                f"/api/workspace/grants/{grant_id}/exports",
                json={"files": ["t.csv"], "justification": text},
            )
            assert long.status_code == status, long.text
            assert long.json()["error"]
        created = researcher.post(
            f"/api/workspace/grants/{grant_id}/exports", json={"files": ["t.csv"]}
        ).json()
        rid, fid = created["id"], created["files"][0]["id"]
        for path, field in [("/comment", "text"), (f"/files/{fid}/answer", "response")]:
            refused = researcher.post(f"/api/exports/{rid}{path}", json={field: megabyte})
            assert refused.status_code == 413, (path, refused.status_code)
            refused = researcher.post(f"/api/exports/{rid}{path}", json={field: over})
            assert refused.status_code == 422, (path, refused.status_code)
            assert "4000" in refused.json()["error"]  # the limit, in the reader's language
        shown = researcher.get(f"/api/exports/{rid}").json()
        assert shown["comments"] == [] and shown["files"][0]["response"] == ""
