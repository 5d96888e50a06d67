"""Certified destruction: after it nothing of the grant is readable on disk, and the certificate
verifies offline (and fails to after any change)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest
from unit.exports.export_helpers import PERSONAL, SAFE_TABLE, make_grant, outbox

from audit import verify_evidence
from audit.exceptions import VerificationError
from open_portal.exceptions import Forbidden, InvalidTransition
from open_portal.models import (
    ExportFile,
    ExportRequest,
    ExportStatus,
    Grant,
    GrantDestruction,
    GrantStatus,
)
from open_portal.service import destruction, exports, grants
from open_portal.service.context import Portal
from open_portal.service.exports import holding
from policies import AccessDenied

PDS = str(Path(sys.executable).parent / "pds")
MARKER = "sandbox-marker-7f3a9c"


def furnish(portal: Portal, tmp_path: Path, grant_id: str) -> dict[str, Path]:
    """What a used grant leaves on the host: workspace files, its release, an export request."""
    home = tmp_path / "workspaces" / grant_id / "home"
    (home / "work").mkdir(parents=True)
    (home / "work" / "analysis.py").write_text(f"# {MARKER}\nprint('hello')\n")
    (home / "work" / "scratch.csv").write_text(f"id,note\n1,{MARKER}\n")
    release = portal.settings.releases_dir / "grants" / grant_id
    release.mkdir(parents=True)
    pl.DataFrame(
        {"person": [f"pn_{i:08d}" for i in range(20)], "note": [MARKER] * 20}
    ).write_parquet(release / "tickets.parquet")
    box = outbox(tmp_path, grant_id)
    (box / "table.csv").write_text(SAFE_TABLE + f"# {MARKER}\n")
    exports.request_export(
        portal,
        actor="researcher",
        grant_id=grant_id,
        files=["table.csv"],
        justification="表 1",
        controls="汇总",
    )
    return {
        "workspace": tmp_path / "workspaces" / grant_id,
        "release": release,
        "holding": exports.holding_dir(portal, grant_id),
    }


def files_containing(root: Path, needle: bytes) -> list[Path]:
    return [
        p
        for p in root.rglob("*")
        if p.is_file() and not p.is_symlink() and needle in p.read_bytes()
    ]


def grant_row(portal: Portal, grant_id: str) -> Grant:
    with portal.sessions() as session:
        grant = session.get(Grant, grant_id)
        assert grant is not None
        session.expunge(grant)
        return grant


def test_destroy_after_the_holder_ends_the_grant(portal: Portal, tmp_path: Path) -> None:
    grant_id = make_grant(portal)
    places = furnish(portal, tmp_path, grant_id)
    (outbox(tmp_path, grant_id) / "people.csv").write_text(PERSONAL)
    exports.request_export(portal, actor="researcher", grant_id=grant_id, files=["people.csv"])
    sealed = places["holding"] / "1" / "1.v1"  # request 1, file 1, version 1
    leftover = tmp_path / "copy-someone-kept"
    leftover.write_bytes(sealed.read_bytes())
    assert files_containing(tmp_path, MARKER.encode())  # it is there before
    grants.change_status(portal, actor="researcher", grant_id=grant_id, action="end")
    bundle = destruction.destroy_grant(
        portal, actor="researcher", grant_id=grant_id, confirmed_by="officer", reason="项目结束"
    )
    for place in places.values():
        assert not place.exists()
    assert files_containing(tmp_path, MARKER.encode()) == []
    grant = grant_row(portal, grant_id)
    assert grant.status == GrantStatus.DESTROYED and grant.wrapped_key is None
    # a copy of a sealed file kept somewhere cannot be opened: the key is gone
    assert leftover.exists()
    sealed.parent.mkdir(parents=True)
    sealed.write_bytes(leftover.read_bytes())
    with portal.sessions() as session:
        held = session.get(ExportFile, 1)
        assert held is not None
        with pytest.raises(Forbidden, match="erased"):
            holding.unseal(portal, grant, held)

    event = verify_evidence(bundle, portal.audit.vkey())
    assert (event.type, event.subject, event.actor) == (
        "grant.destroyed",
        f"grant:{grant_id}",
        "researcher",
    )
    cert = event.to_dict()["details"]
    assert cert["confirmed_by"] == "officer" and cert["triggered_by"] == "researcher"
    assert cert["datasets"] == [{"dataset": "tickets", "version": 1, "raw_sha256": "0" * 64}]
    assert cert["status_before"] == "ended"
    workspace = cert["destroyed"]["workspace"]
    assert {f["path"] for f in workspace["files"]} == {
        "outbox/people.csv",
        "outbox/table.csv",
        "work/analysis.py",
        "work/scratch.csv",
    }
    assert all(len(f["sha256"]) == 64 for f in workspace["files"])
    assert [f["path"] for f in cert["destroyed"]["release"]["files"]] == ["tickets.parquet"]
    assert len(cert["destroyed"]["export_holding_area"]["files"]) == 2
    assert cert["destroyed"]["keys"]["pseudonym_key"]["erased"] is True
    assert cert["destroyed"]["export_requests"]["closed"] == [1, 2]
    assert "NIST SP 800-88" in cert["method"]
    with portal.sessions() as session:
        request = session.get(ExportRequest, 1)
        assert request is not None and request.status == ExportStatus.WITHDRAWN
        people = session.get(ExportRequest, 2)
        assert people is not None
        # the excerpts the checks kept for reviewers are gone; the counts stay
        found = next(c for c in people.files[0].checks if c["check"] == "personal_data")
        assert "examples" not in found["details"] and found["details"]["entities"]
    # the portal hands out the same certificate
    again = destruction.certificate(portal, actor="researcher", grant_id=grant_id)
    assert again["leaf_index"] == bundle["leaf_index"]
    with pytest.raises(AccessDenied):
        destruction.certificate(portal, actor="researcher2", grant_id=grant_id)


def test_every_change_to_the_certificate_fails(portal: Portal, tmp_path: Path) -> None:
    grant_id = make_grant(portal)
    grants.change_status(portal, actor="officer", grant_id=grant_id, action="revoke", reason="违规")
    bundle = destruction.destroy_grant(
        portal, actor="officer", grant_id=grant_id, confirmed_by="officer2"
    )
    vkey = portal.audit.vkey()
    verify_evidence(bundle, vkey)
    changed_entry = json.loads(json.dumps(bundle))
    changed_entry["entry"]["details"]["confirmed_by"] = "officer3"
    leaf = json.loads(base64.b64decode(bundle["leaf_b64"]))
    leaf["details"]["method"] = "shredded"
    changed_leaf = {
        **bundle,
        "leaf_b64": base64.b64encode(
            json.dumps(leaf, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
        ).decode(),
        "entry": leaf,
    }
    lines = bundle["checkpoint"].split("\n")
    lines[1] = str(int(lines[1]) + 1)
    changed_checkpoint = {**bundle, "checkpoint": "\n".join(lines)}
    proof = [base64.b64decode(p) for p in bundle["inclusion_proof"]]
    changed_proof = {
        **bundle,
        "inclusion_proof": [base64.b64encode(bytes(32)).decode()] * len(proof),
    }
    changed_index = {**bundle, "leaf_index": bundle["leaf_index"] - 1}
    for bad in (changed_entry, changed_leaf, changed_checkpoint, changed_proof, changed_index):
        with pytest.raises(VerificationError):
            verify_evidence(bad, vkey)


def pds(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PDS_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [PDS, "audit", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_the_cli_hands_out_and_verifies_the_certificate(portal: Portal, tmp_path: Path) -> None:
    grant_id = make_grant(portal)
    grants.change_status(portal, actor="researcher", grant_id=grant_id, action="end")
    destruction.destroy_grant(portal, actor="researcher", grant_id=grant_id, confirmed_by="officer")
    data_dir = portal.settings.data_dir
    out = pds(data_dir, "certificate", f"grant:{grant_id}", "--json")
    assert out.returncode == 0, out.stderr
    file = tmp_path / "certificate.json"
    file.write_text(out.stdout)
    checked = pds(data_dir, "verify-certificate", str(file))
    assert checked.returncode == 0, checked.stderr
    assert "grant.destroyed" in checked.stdout and f"grant:{grant_id}" in checked.stdout
    bundle = json.loads(out.stdout)
    bundle["entry"]["details"]["confirmed_by"] = "someone-else"
    file.write_text(json.dumps(bundle, ensure_ascii=False))
    refused = pds(data_dir, "verify-certificate", str(file))
    assert refused.returncode == 1 and "INVALID" in refused.stderr


def test_not_while_an_export_is_under_review(portal: Portal, tmp_path: Path) -> None:
    grant_id = make_grant(portal)
    furnish(portal, tmp_path, grant_id)
    exports.submit(portal, actor="researcher", request_id=1)
    grants.change_status(portal, actor="researcher", grant_id=grant_id, action="end")
    with pytest.raises(InvalidTransition, match="under review"):
        destruction.destroy_grant(
            portal, actor="researcher", grant_id=grant_id, confirmed_by="officer"
        )
    assert grant_row(portal, grant_id).wrapped_key is not None
    exports.decide(portal, actor="officer", request_id=1, decision="return", comment="授权已结束")
    destruction.destroy_grant(portal, actor="researcher", grant_id=grant_id, confirmed_by="officer")
    assert grant_row(portal, grant_id).status == GrantStatus.DESTROYED


def test_not_while_the_grant_is_usable(portal: Portal) -> None:
    grant_id = make_grant(portal)
    with pytest.raises(InvalidTransition):
        destruction.destroy_grant(
            portal, actor="officer", grant_id=grant_id, confirmed_by="officer2"
        )
    grants.change_status(portal, actor="officer", grant_id=grant_id, action="suspend")
    with pytest.raises(InvalidTransition):
        destruction.destroy_grant(
            portal, actor="officer", grant_id=grant_id, confirmed_by="officer2"
        )
    assert grant_row(portal, grant_id).wrapped_key is not None


@pytest.mark.parametrize(
    ("actor", "confirmed_by"),
    [
        ("researcher", "researcher"),  # a holder cannot confirm
        ("researcher", "owner"),  # nor a data owner
        ("researcher2", "officer"),  # an outsider cannot ask
        ("operator", "officer"),  # a member who is not the holder cannot ask
        ("system", "system"),  # the system confirms only automatic destruction
        ("officer", "officer"),  # the officer who starts it cannot confirm it
    ],
)
def test_who_may_destroy(portal: Portal, actor: str, confirmed_by: str) -> None:
    grant_id = make_grant(portal)
    grants.change_status(portal, actor="researcher", grant_id=grant_id, action="end")
    with pytest.raises((AccessDenied, Forbidden)):
        destruction.destroy_grant(portal, actor=actor, grant_id=grant_id, confirmed_by=confirmed_by)
    with portal.sessions() as session:
        assert session.get(GrantDestruction, grant_id) is None


def test_idempotent(portal: Portal) -> None:
    grant_id = make_grant(portal)
    grants.change_status(portal, actor="researcher", grant_id=grant_id, action="end")
    first = destruction.destroy_grant(
        portal, actor="researcher", grant_id=grant_id, confirmed_by="officer"
    )
    size = portal.audit.size
    second = destruction.destroy_grant(
        portal, actor="officer2", grant_id=grant_id, confirmed_by="officer2"
    )
    assert second["leaf_index"] == first["leaf_index"]
    assert portal.audit.size == size


class Crash(Exception):
    pass


@pytest.mark.parametrize("crash_after", destruction.STEPS)
def test_resumes_after_a_crash_half_way(portal: Portal, tmp_path: Path, crash_after: str) -> None:
    grant_id = make_grant(portal)
    places = furnish(portal, tmp_path, grant_id)
    grants.change_status(portal, actor="researcher", grant_id=grant_id, action="end")

    def crash(step: str) -> None:
        if step == crash_after:
            raise Crash(step)

    destruction.after_step.append(crash)
    try:
        with pytest.raises(Crash):
            destruction.destroy_grant(
                portal, actor="researcher", grant_id=grant_id, confirmed_by="officer"
            )
    finally:
        destruction.after_step.remove(crash)
    with portal.sessions() as session:
        record = session.get(GrantDestruction, grant_id)
        assert record is not None
        done = list(record.steps)
    assert done == list(destruction.STEPS[: destruction.STEPS.index(crash_after) + 1])
    assert grant_row(portal, grant_id).status == GrantStatus.ENDED
    bundle = destruction.destroy_grant(
        portal, actor="researcher", grant_id=grant_id, confirmed_by="officer"
    )
    for place in places.values():
        assert not place.exists()
    types = [e.type for _, e in portal.audit.entries()]
    assert types.count("grant.destroyed") == 1
    assert types.count("workspace.destroyed") == 1
    cert = verify_evidence(bundle, portal.audit.vkey()).to_dict()["details"]
    # what the first, interrupted, run destroyed is in the certificate
    assert len(cert["destroyed"]["workspace"]["files"]) == 3


def test_resumes_after_a_crash_between_the_certificate_and_the_commit(
    portal: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    grant_id = make_grant(portal)
    grants.change_status(portal, actor="researcher", grant_id=grant_id, action="end")
    real_notify = destruction.notify

    def dies(*args: object, **kwargs: object) -> None:
        raise Crash("after the certificate was recorded")

    monkeypatch.setattr(destruction, "notify", dies)
    with pytest.raises(Crash):
        destruction.destroy_grant(
            portal, actor="researcher", grant_id=grant_id, confirmed_by="officer"
        )
    monkeypatch.setattr(destruction, "notify", real_notify)
    bundle = destruction.destroy_grant(
        portal, actor="researcher", grant_id=grant_id, confirmed_by="officer"
    )
    types = [e.type for _, e in portal.audit.entries()]
    assert types.count("grant.destroyed") == 1
    assert bundle["leaf_index"] == types.index("grant.destroyed")


def test_destroy_expired(portal: Portal, tmp_path: Path) -> None:
    waiting = make_grant(portal)
    done = make_grant(portal, team=[])
    ended_early = make_grant(portal, team=[])
    furnish(portal, tmp_path, waiting)
    exports.submit(portal, actor="researcher", request_id=1)
    grants.change_status(portal, actor="researcher", grant_id=ended_early, action="end")
    # a grant its holder ended is destroyed at once, without an officer, as the docs say
    assert destruction.destroy_expired(portal) == [ended_early]
    assert grant_row(portal, ended_early).status == GrantStatus.DESTROYED
    bundle = destruction.certificate(portal, actor="researcher", grant_id=ended_early)
    cert = verify_evidence(bundle, portal.audit.vkey()).to_dict()["details"]
    assert (cert["triggered_by"], cert["reason"]) == ("system", "ended by its holder")
    start = portal.clock()
    portal.clock = lambda: start + timedelta(days=365)
    grants.expire_due(portal)
    destroyed = destruction.destroy_expired(portal)
    assert destroyed == [done]
    assert grant_row(portal, waiting).status == GrantStatus.EXPIRED
    bundle = destruction.certificate(portal, actor="officer", grant_id=done)
    cert = verify_evidence(bundle, portal.audit.vkey()).to_dict()["details"]
    assert cert["confirmed_by"] == "system" and cert["triggered_by"] == "system"
    exports.decide(portal, actor="officer", request_id=1, decision="return", comment="授权到期")
    assert destruction.destroy_expired(portal) == [waiting]
    assert destruction.destroy_expired(portal) == []
