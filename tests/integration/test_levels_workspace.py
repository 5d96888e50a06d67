"""One application across levels, in the workspace: the L2 dataset loads, the L3 one answers by DP."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from running_platform import RunningHub

pytestmark = pytest.mark.integration

L2, L3 = "hotline-tickets", "social-insurance-payments"

WORKSPACE_CODE = """
import json
from sandbox import client, dp
frame = client.load("hotline-tickets").collect()
count = dp.count("social-insurance-payments", epsilon="0.25")
refused = {}
for name, call in (
    ("load_l3", lambda: client.load("social-insurance-payments")),
    ("dp_l2", lambda: dp.count("hotline-tickets", epsilon="0.25")),
):
    try:
        call()
        refused[name] = ""
    except client.ClientError as exc:
        refused[name] = str(exc)
print(json.dumps({
    "levels": {d["id"]: d["level"] for d in client.datasets()},
    "rows": frame.height,
    "received_at": str(frame.schema["received_at"]),
    "count": count.value,
    "refused": refused,
    "budget": client.budget(),
}))
"""


def test_one_grant_loads_the_l2_dataset_and_queries_the_l3_one_by_dp(hub: RunningHub) -> None:
    today = dt.date.today()
    with (
        hub.api("researcher") as researcher,
        hub.api("owner") as owner,
        hub.api("officer") as officer,
    ):
        created = researcher.post(
            "/api/applications",
            params={"submit": "true"},
            json={
                "kind": "person",
                "dataset_ids": [L2, L3],
                "purpose": "一揽子申请：跨级别",
                "starts_on": today.isoformat(),
                "ends_on": (today + dt.timedelta(days=30)).isoformat(),
                "epsilon": "1",
                "agreement_accepted": True,
                "commitment_accepted": True,
            },
        )
        assert created.status_code == 201, created.text
        assert created.json()["levels"] == {L2: "L2", L3: "L3"}
        application_id = created.json()["id"]
        assert owner.post(f"/api/applications/{application_id}/approve").status_code == 200
        assert officer.post(f"/api/applications/{application_id}/approve").status_code == 200
        grants = researcher.get("/api/grants").json()
    grant_id = f"g{application_id:04d}"
    assert [g["levels"] for g in grants if g["id"] == grant_id] == [{L2: "L2", L3: "L3"}]
    token = hub.token("researcher")
    hub.start_workspace("researcher", grant_id, token)
    output = hub.run_code(grant_id, WORKSPACE_CODE, token=token)
    seen = json.loads(output.strip().splitlines()[-1])
    assert seen["levels"] == {L2: "L2", L3: "L3"}
    assert seen["rows"] > 2500
    assert seen["received_at"].startswith("Datetime")  # typed through to the workspace
    assert seen["count"] > 0
    assert "granted at L3" in seen["refused"]["load_l3"]
    assert "按 L2 级授权" in seen["refused"]["dp_l2"]  # nothing spent: the budget below
    assert float(seen["budget"]["remaining"]) == pytest.approx(0.75)
    # only the L2 dataset was ever written where the workspace reads
    plain = hub.data_dir / "releases" / "grants" / grant_id / "plain"
    assert {p.name.split(".")[0] for p in plain.iterdir()} == {L2}
