"""Workspaces through the whole platform: a grant's isolated server, its data, DP, revocation."""

from __future__ import annotations

import json
import os
import stat
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from running_platform import RUN, RunningHub

from sandbox import accounts, members
from sandbox.workspace import WorkspaceLayout

pytestmark = pytest.mark.integration

L2_CODE = """
import json, re
from sandbox import client
frame = client.load("hotline-tickets").collect()
ids = [str(v) for v in frame["caller_id_number"].to_list()] if "caller_id_number" in frame.columns else []
print(json.dumps({
    "datasets": [d["id"] for d in client.datasets()],
    "level": client.grant()["level"],
    "rows": frame.height,
    "columns": frame.columns,
    "raw_ids": sum(bool(re.fullmatch(r"\\d{17}[\\dXx]", v)) for v in ids),
    "mobiles": sum(
        bool(re.fullmatch(r"(\\+?86)?[\\s-]?1[3-9]\\d[\\s-]?\\d{4}[\\s-]?\\d{4}", str(v)))
        for v in frame["caller_mobile"].to_list()
    ),
    "sample": str(frame["caller_mobile"][0]),
    "redacted": int(frame["content"].str.contains("<PERSON>").sum()),
}))
"""

L3_CODE = """
import json
from sandbox import client, dp
count = dp.count("social-insurance-payments", epsilon="0.25")
mean = dp.mean("social-insurance-payments", "payment", epsilon="0.25", where={"district": ["西湖区", "滨江区"]})
try:
    client.load("social-insurance-payments")
    loaded = True
except Exception:
    loaded = False
try:
    dp.count("social-insurance-payments", epsilon="0.75")
    refused = ""
except client.ClientError as exc:
    refused = str(exc)
print(json.dumps({"count": count.value, "count_ci": count.ci95, "mean": mean.value,
                  "left": mean.remaining_budget, "budget": client.budget(), "loaded": loaded,
                  "refused": refused, "shown": repr(count)}))
"""


def run(hub: RunningHub, token: str, grant_id: str, code: str) -> dict[str, object]:
    output = hub.run_code(grant_id, code, token=token)
    return json.loads(output.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_l2_workspace_holds_only_the_desensitized_release(hub: RunningHub) -> None:
    grant_id = hub.approved_grant("hotline-tickets")
    token = hub.token("researcher")
    hub.start_workspace("researcher", grant_id, token)
    seen = run(hub, token, grant_id, L2_CODE)
    assert seen["datasets"] == ["hotline-tickets"] and seen["level"] == "L2"
    assert seen["rows"] > 2500
    assert seen["raw_ids"] == 0 and seen["mobiles"] == 0
    assert seen["redacted"] > 0
    with hub.api("officer") as officer:
        revoked = officer.post(f"/api/grants/{grant_id}/revoke", json={"reason": "端到端测试"})
        assert revoked.status_code == 200
    deadline = time.monotonic() + 60
    while (server := hub.server("researcher", grant_id, token)) and server.get("ready"):
        assert time.monotonic() < deadline, "the workspace of a revoked grant is still running"
        time.sleep(0.5)
    with hub.api("officer") as officer:
        events = officer.get("/api/audit/events", params={"grant": grant_id}).json()
    kinds = {e["type"] for e in events}
    assert {"grant.created", "release.prepared", "workspace.started", "grant.revoke"} <= kinds


def test_l3_workspace_gets_only_dp_answers(hub: RunningHub) -> None:
    grant_id = hub.approved_grant("social-insurance-payments", "L3", epsilon="1")
    token = hub.token("researcher")
    hub.start_workspace("researcher", grant_id, token)
    seen = run(hub, token, grant_id, L3_CODE)
    assert seen["loaded"] is False
    assert isinstance(seen["count"], int | float) and seen["count"] > 0 and seen["count_ci"] > 0
    assert 0 <= float(seen["mean"]) <= 3000  # clipped to the declared bounds
    assert seen["left"] == pytest.approx(0.5)
    budget = seen["budget"]
    assert isinstance(budget, dict) and float(budget["remaining"]) == pytest.approx(0.5)
    assert "0.5" in str(seen["refused"])  # over the budget: refused, saying what is left
    assert "ε 0.25" in str(seen["shown"])


def test_host_files_are_private_to_the_platform_and_the_workspace(hub: RunningHub) -> None:
    """Walk every entry of the data directory, the workspace root and the run directory of a
    running L2 workspace: nothing is open to other accounts except what a workspace must reach."""
    grant_id = hub.approved_grant("hotline-tickets")
    token = hub.token("researcher")
    hub.start_workspace("researcher", grant_id, token)
    run_root = RUN / hub.workspaces.name
    layout = WorkspaceLayout.of(grant_id, hub.workspaces, run_root)
    ids = accounts.lookup(layout.account)
    assert ids is not None
    uid = ids[0]
    release = hub.data_dir / "releases" / "grants" / grant_id / "plain"
    assert stat.S_IMODE(hub.data_dir.stat().st_mode) == 0o700
    problems: list[str] = []

    def check(root: Path, allowed: Callable[[Path, os.stat_result], bool]) -> int:
        seen = 0
        for dirpath, dirnames, filenames in os.walk(root):
            if Path(dirpath).parent.parent == hub.workspaces and Path(dirpath).name == "home":
                dirnames[:] = []  # a workspace's own volume (its files; the root checked below)
                continue
            for path in [Path(dirpath), *(Path(dirpath) / n for n in dirnames + filenames)]:
                st = path.lstat()
                seen += 1
                if st.st_mode & 0o077 and not allowed(path, st):
                    problems.append(f"{path} {stat.filemode(st.st_mode)} {st.st_uid}:{st.st_gid}")
        return seen

    def workspace_gid(grant: str) -> int | None:
        found = accounts.lookup(WorkspaceLayout.of(grant, hub.workspaces, run_root).account)
        return found[1] if found else None

    def release_entry(grant: str, st: os.stat_result) -> bool:
        # a grant's release: read-only to that grant's workspace group, nothing to others
        mode = stat.S_IMODE(st.st_mode)
        return st.st_gid == workspace_gid(grant) and mode in (0o750, 0o640)

    def in_data_dir(path: Path, st: os.stat_result) -> bool:
        parts = path.relative_to(hub.data_dir).parts
        is_release = parts[:2] == ("releases", "grants") and parts[3:4] == ("plain",)
        return is_release and release_entry(parts[2], st)

    def in_workspace_dirs(path: Path, st: os.stat_result) -> bool:
        mode = stat.S_IMODE(st.st_mode)
        if path.is_relative_to(run_root) and path.relative_to(run_root).parts[1:2] == ("release",):
            return release_entry(path.relative_to(run_root).parts[0], st)
        if path.is_relative_to(run_root) and path.relative_to(run_root).parts[1:2] == ("etc",):
            return st.st_uid == 0 and mode in (0o644, 0o755)  # passwd, hosts: no secrets
        # directories the workspace account passes through to reach its own
        return stat.S_ISDIR(st.st_mode) and st.st_uid == 0 and mode == 0o711

    counted = check(hub.data_dir, in_data_dir)
    counted += check(hub.workspaces, in_workspace_dirs) + check(run_root, in_workspace_dirs)
    assert problems == []
    assert counted > 30
    files = sorted(p.name for p in release.iterdir())
    assert "hotline-tickets.parquet" in files
    volume = layout.home.stat()
    assert (volume.st_uid, stat.S_IMODE(volume.st_mode)) == (0, 0o711)
    for private in (
        layout.home / members.MEMBERS / members.member_key("researcher"),
        layout.home / members.PROJECT,
        layout.home / members.OUTBOX,
    ):
        st = private.stat()
        assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (uid, 0o700), private
    assert stat.S_IMODE(layout.image.stat().st_mode) == 0o600
    for name in ("entries.log", "checkpoints.log", "keys/signing.key", "keys/vkey"):
        assert stat.S_IMODE((hub.data_dir / "audit" / name).stat().st_mode) == 0o600, name
    # and the workspace reads its release through the mount
    seen = run(hub, token, grant_id, L2_CODE)
    assert seen["rows"] > 2500
