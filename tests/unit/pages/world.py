"""A portal holding objects in every state a page shows, built step by step through the services."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from factories import (
    add_dataset,
    application_input,
    drained,
    join_team,
    meta,
    people_csv,
    portal_at,
    submitted_application,
)

from open_portal.models import Decision, ExportRequest, Level, Vote
from open_portal.service import applications, catalog, destruction, exports, grants
from open_portal.service.context import Portal

USERS = ["researcher", "operator", "owner", "officer", "officer2", "admin"]
TABLE = "区,人数\n西湖区,120\n上城区,95\n合计,215\n"
POLICY = """
columns:
  name: {action: drop}
  id_number: {action: pseudonymize}
  mobile: {action: mask, keep_first: 3, keep_last: 2}
  note: {action: redact}
k_anonymity: {k: 5, quasi_identifiers: [district]}
"""


@contextmanager
def world_portal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Portal]:
    monkeypatch.setenv("PDS_WORKSPACE_ROOT", str(tmp_path / "workspaces"))
    monkeypatch.setenv("PDS_WORKSPACE_RUN_DIR", str(tmp_path / "run"))
    monkeypatch.delenv("JUPYTERHUB_API_URL", raising=False)
    monkeypatch.delenv("JUPYTERHUB_API_TOKEN", raising=False)
    with portal_at(tmp_path / "data", f"sqlite:///{tmp_path / 'p.sqlite'}") as portal:
        add_dataset(portal, "tickets", Level.L2, publisher="hotline")
        add_dataset(portal, "payments", Level.L3, publisher="hrss")
        add_dataset(portal, "registry", Level.L1, publisher="market")
        for dept in ("hotline", "hrss", "market"):
            portal.policy.assign_role("owner", "owner", f"dept:{dept}")
        yield portal


def _export(portal: Portal, tmp_path: Path, grant_id: str, name: str) -> int:
    box = tmp_path / "workspaces" / grant_id / "home" / "outbox"
    box.mkdir(parents=True, exist_ok=True)
    (box / name).write_text(TABLE, encoding="utf-8")
    request = exports.request_export(
        portal,
        actor="researcher",
        grant_id=grant_id,
        files=[name],
        justification="表 2：各区诉求量",
        controls="已按区汇总",
    )
    return request.id


def _review(portal: Portal, request_id: int, officer: str) -> None:
    with portal.sessions() as session:
        request = session.get(ExportRequest, request_id)
        assert request is not None
        ids = [f.id for f in request.files]
    for file_id in ids:
        exports.vote(
            portal, actor=officer, request_id=request_id, file_id=file_id, decision=Vote.APPROVE
        )
    exports.complete_review(portal, actor=officer, request_id=request_id)


def build(portal: Portal, tmp_path: Path) -> Iterator[str]:
    """Change the portal one step at a time; yields what the step did."""
    yield "nothing yet"
    draft = applications.create_application(
        portal, actor="researcher", data=application_input(["tickets"])
    )
    yield f"application #{draft.id} drafted"
    l2 = submitted_application(portal, ["tickets"], Level.L2, team_members=["operator"])
    yield f"L2 application #{l2} submitted"
    l3 = submitted_application(portal, ["payments"], Level.L3, epsilon="3", team_members=[])
    yield f"L3 application #{l3} submitted"
    applications.review(portal, actor="owner", application_id=l3, decision=Decision.APPROVE)
    yield f"L3 application #{l3} approved by its owner"
    applications.review(portal, actor="owner", application_id=l2, decision=Decision.APPROVE)
    join_team(portal, f"g{l2:04d}", ["operator"])
    yield f"L2 application #{l2} approved"
    applications.review(portal, actor="officer", application_id=l3, decision=Decision.APPROVE)
    yield f"L3 application #{l3} approved"
    returned = submitted_application(portal, ["tickets"], Level.L2)
    applications.review(
        portal, actor="owner", application_id=returned, decision=Decision.RETURN, comment="补充用途"
    )
    yield f"application #{returned} returned"
    l2_grant, l3_grant = f"g{l2:04d}", f"g{l3:04d}"
    pending = _export(portal, tmp_path, l2_grant, "pending.csv")
    yield f"export #{pending} pending"
    submitted = _export(portal, tmp_path, l2_grant, "table.csv")
    exports.submit(portal, actor="researcher", request_id=submitted)
    yield f"export #{submitted} submitted"
    two = _export(portal, tmp_path, l3_grant, "l3.csv")
    exports.submit(portal, actor="researcher", request_id=two)
    _review(portal, two, "officer")
    yield f"export #{two} reviewed by one of two officers"
    _review(portal, submitted, "officer")
    yield f"export #{submitted} reviewed"
    exports.decide(portal, actor="officer", request_id=submitted, decision="approve")
    yield f"export #{submitted} approved"
    exports.release(portal, actor="officer", request_id=submitted)
    yield f"export #{submitted} released"
    rejected = _export(portal, tmp_path, l2_grant, "rejected.csv")
    exports.submit(portal, actor="researcher", request_id=rejected)
    _review(portal, rejected, "officer2")
    exports.decide(
        portal, actor="officer2", request_id=rejected, decision="reject", comment="含小单元格"
    )
    yield f"export #{rejected} rejected"
    grants.change_status(
        portal, actor="officer", grant_id=l2_grant, action="suspend", reason="核查"
    )
    yield f"grant {l2_grant} suspended"
    ended = submitted_application(portal, ["tickets"], Level.L2, team_members=[])
    applications.review(portal, actor="owner", application_id=ended, decision=Decision.APPROVE)
    grants.change_status(portal, actor="researcher", grant_id=f"g{ended:04d}", action="end")
    destruction.destroy_grant(
        portal, actor="researcher", grant_id=f"g{ended:04d}", confirmed_by="officer"
    )
    yield f"grant g{ended:04d} ended and destroyed"
    for dataset_id, level in (("people", Level.L1), ("people-l2", Level.L2)):
        catalog.publish_dataset(
            portal,
            actor="owner",
            meta=meta(dataset_id, level),
            file_name=f"{dataset_id}.csv",
            content=people_csv(),
        )
    catalog.confirm_policy(portal, actor="owner", dataset_id="people", policy_yaml=POLICY)
    drained(portal)
    yield "datasets published from files: people (L1, policy confirmed), people-l2 (proposed)"
