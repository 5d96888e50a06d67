"""The pseudonym check on the grant's real release, through a real workspace and its kernel.

Code in the workspace reads the grant's desensitized release, copies 30 of its pseudonyms into
``outbox/`` (whole, and cut to a 13-digit upper-case prefix) and asks for their export with the
workspace client; the portal's checks must flag both files.
"""

from __future__ import annotations

import pytest
from integration.test_workspace_platform import run
from running_platform import RunningHub

pytestmark = pytest.mark.integration

COPY_PSEUDONYMS = """
import json, re
import polars as pl
from sandbox import client
frame = client.load("hotline-tickets").collect()
shape = re.compile(r"[0-9a-f]{24}")
columns = [
    c for c in frame.columns
    if frame[c].dtype == pl.String and frame[c].drop_nulls().len()
    and all(shape.fullmatch(v) for v in frame[c].drop_nulls().unique().to_list())
]
values = sorted(frame[columns[0]].drop_nulls().unique().to_list())[:30]
box = client.outbox()
(box / "ids.csv").write_text("caller,n\\n" + "".join(f"{v},1\\n" for v in values))
(box / "short.txt").write_text(" ".join(v[:13].upper() for v in values))
try:
    rid = client.request_export(["ids.csv", "short.txt"], "ids", "none")
    missing = []
except client.ExportNotSubmitted as held:  # the pseudonym check fails: not submitted
    rid, missing = held.request_id, [m["file"] for m in held.missing]
print(json.dumps({"request": rid, "column": columns[0], "copied": len(values), "missing": missing}))
"""


def test_pseudonyms_copied_from_the_release_are_flagged(hub: RunningHub) -> None:
    grant_id = hub.approved_grant("hotline-tickets")
    token = hub.token("researcher")
    hub.start_workspace("researcher", grant_id, token)
    done = run(hub, token, grant_id, COPY_PSEUDONYMS)
    assert done["copied"] == 30, done
    assert done["missing"] == ["ids.csv", "short.txt"], done  # answers owed before submitting
    with hub.api("researcher") as researcher:
        shown = researcher.get(f"/api/exports/{done['request']}").json()
    for file in shown["files"]:
        (check,) = [c for c in file["checks"] if c["check"] == "pseudonyms"]
        assert check["passed"] is False, (file["name"], check)
        assert check["details"]["count"] == 30, (file["name"], check)
