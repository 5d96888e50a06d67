"""The export request state machine: every allowed and forbidden transition, by whom, on both
databases; what is reviewed is the copy taken at request time."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest
from unit.exports.export_helpers import PERSONAL, SAFE_TABLE, SMALL_CELLS, make_grant, outbox

from audit import verify_evidence
from open_portal.exceptions import Forbidden, InvalidInput, InvalidTransition, NotFound
from open_portal.models import ExportRequest, ExportStatus, Level, Visibility, Vote
from open_portal.service import exports, grants
from open_portal.service.context import Portal
from open_portal.service.transitions import EXPORT
from policies import AccessDenied

E = ExportStatus


def test_terminal_states_have_no_way_out() -> None:
    for terminal in (E.RELEASED, E.REJECTED, E.WITHDRAWN):
        assert not [k for k in EXPORT if k[0] == terminal]


def status(portal: Portal, request_id: int) -> ExportStatus:
    with portal.sessions() as session:
        request = session.get(ExportRequest, request_id)
        assert request is not None
        return request.status


def requested(
    portal: Portal, tmp_path: Path, grant_id: str, files: dict[str, str], actor: str = "researcher"
) -> int:
    box = outbox(tmp_path, grant_id)
    for name, text in files.items():
        (box / name).parent.mkdir(parents=True, exist_ok=True)
        (box / name).write_text(text, encoding="utf-8")
    request = exports.request_export(
        portal,
        actor=actor,
        grant_id=grant_id,
        files=list(files),
        justification="表 2：各区诉求量",
        controls="已按区汇总，小于 10 的单元格已抑制",
    )
    return request.id


def file_ids(portal: Portal, request_id: int) -> list[int]:
    with portal.sessions() as session:
        request = session.get(ExportRequest, request_id)
        assert request is not None
        return [f.id for f in request.files]


def review_all(portal: Portal, request_id: int, officer: str, vote: Vote = Vote.APPROVE) -> None:
    for fid in file_ids(portal, request_id):
        exports.vote(portal, actor=officer, request_id=request_id, file_id=fid, decision=vote)
    exports.complete_review(portal, actor=officer, request_id=request_id)


def test_l2_request_review_approve_release_download(portal: Portal, tmp_path: Path) -> None:
    grant_id = make_grant(portal)
    rid = requested(portal, tmp_path, grant_id, {"table.csv": SAFE_TABLE})
    assert status(portal, rid) == E.PENDING
    exports.submit(portal, actor="researcher", request_id=rid)
    assert status(portal, rid) == E.SUBMITTED
    review_all(portal, rid, "officer")
    assert status(portal, rid) == E.REVIEWED  # one officer is enough for L2
    exports.decide(portal, actor="officer", request_id=rid, decision="approve")
    assert status(portal, rid) == E.APPROVED
    with pytest.raises(InvalidTransition):
        exports.download(
            portal, actor="researcher", request_id=rid, file_id=file_ids(portal, rid)[0]
        )
    exports.release(portal, actor="officer2", request_id=rid)
    assert status(portal, rid) == E.RELEASED
    fid = file_ids(portal, rid)[0]
    file, data = exports.download(portal, actor="operator", request_id=rid, file_id=fid)
    assert data == SAFE_TABLE.encode() and file.sha256 == hashlib.sha256(data).hexdigest()
    for outsider in ("officer", "owner", "admin", "researcher2"):
        with pytest.raises((AccessDenied, NotFound)):
            exports.download(portal, actor=outsider, request_id=rid, file_id=fid)
    evidence = exports.release_evidence(portal, actor="researcher", request_id=rid)
    event = verify_evidence(evidence, portal.audit.vkey())
    assert event.type == "export.released"
    manifest = event.to_dict()["details"]["manifest"]
    assert manifest["files"][0]["sha256"] == file.sha256
    assert manifest["files"][0]["approved_by"] == ["officer"]
    assert manifest["reviewers"] == ["officer"]
    assert manifest["files"][0]["checks"]["personal_data"] is True


def test_l3_needs_two_independent_officers(portal: Portal, tmp_path: Path) -> None:
    grant_id = make_grant(portal, Level.L3)
    rid = requested(portal, tmp_path, grant_id, {"dp.csv": SAFE_TABLE})
    exports.submit(portal, actor="researcher", request_id=rid)
    review_all(portal, rid, "officer")
    assert status(portal, rid) == E.PARTIALLY_REVIEWED
    with pytest.raises(InvalidTransition):
        exports.decide(portal, actor="officer", request_id=rid, decision="approve")
    with pytest.raises(InvalidTransition):  # the same officer cannot count twice
        exports.complete_review(portal, actor="officer", request_id=rid)
    review_all(portal, rid, "officer2")
    assert status(portal, rid) == E.REVIEWED
    exports.decide(portal, actor="officer3", request_id=rid, decision="approve")
    assert status(portal, rid) == E.APPROVED


def test_approval_needs_every_file_approved(portal: Portal, tmp_path: Path) -> None:
    grant_id = make_grant(portal)
    rid = requested(portal, tmp_path, grant_id, {"a.csv": SAFE_TABLE, "b.txt": "summary"})
    exports.submit(portal, actor="researcher", request_id=rid)
    a, b = file_ids(portal, rid)
    exports.vote(portal, actor="officer", request_id=rid, file_id=a, decision=Vote.APPROVE)
    with pytest.raises(InvalidInput):  # b has no vote yet
        exports.complete_review(portal, actor="officer", request_id=rid)
    exports.vote(portal, actor="officer", request_id=rid, file_id=b, decision=Vote.CHANGES)
    exports.complete_review(portal, actor="officer", request_id=rid)
    with pytest.raises(InvalidTransition):
        exports.decide(portal, actor="officer", request_id=rid, decision="approve")
    with pytest.raises(InvalidInput):  # a return says why
        exports.decide(portal, actor="officer", request_id=rid, decision="return")
    exports.decide(
        portal, actor="officer", request_id=rid, decision="return", comment="b.txt 请删去原始记录"
    )
    assert status(portal, rid) == E.RETURNED


@pytest.mark.parametrize("reviewer", ["researcher", "operator"])
def test_requesters_never_review(portal: Portal, tmp_path: Path, reviewer: str) -> None:
    portal.policy.assign_role(reviewer, "officer")
    grant_id = make_grant(portal)
    rid = requested(portal, tmp_path, grant_id, {"t.csv": SAFE_TABLE})
    exports.submit(portal, actor="researcher", request_id=rid)
    fid = file_ids(portal, rid)[0]
    with pytest.raises(Forbidden):
        exports.vote(portal, actor=reviewer, request_id=rid, file_id=fid, decision=Vote.APPROVE)
    with pytest.raises(Forbidden):
        exports.complete_review(portal, actor=reviewer, request_id=rid)
    with pytest.raises(Forbidden):
        exports.decide(portal, actor=reviewer, request_id=rid, decision="reject", comment="x")


@pytest.mark.parametrize("actor", ["owner", "researcher2", "admin", ""])
def test_only_officers_review(portal: Portal, tmp_path: Path, actor: str) -> None:
    grant_id = make_grant(portal)
    rid = requested(portal, tmp_path, grant_id, {"t.csv": SAFE_TABLE})
    exports.submit(portal, actor="researcher", request_id=rid)
    with pytest.raises(Forbidden):
        exports.vote(
            portal,
            actor=actor,
            request_id=rid,
            file_id=file_ids(portal, rid)[0],
            decision=Vote.APPROVE,
        )


def test_only_members_of_a_usable_grant_request(portal: Portal, tmp_path: Path) -> None:
    grant_id = make_grant(portal)
    outbox(tmp_path, grant_id).joinpath("t.csv").write_text(SAFE_TABLE)
    for outsider in ("researcher2", "officer", "owner"):
        with pytest.raises(AccessDenied):
            exports.request_export(portal, actor=outsider, grant_id=grant_id, files=["t.csv"])
    grants.change_status(portal, actor="officer", grant_id=grant_id, action="suspend")
    with pytest.raises(AccessDenied):
        exports.request_export(portal, actor="researcher", grant_id=grant_id, files=["t.csv"])


def test_only_requesters_submit_and_withdraw(portal: Portal, tmp_path: Path) -> None:
    grant_id = make_grant(portal)
    rid = requested(portal, tmp_path, grant_id, {"t.csv": SAFE_TABLE})
    for outsider in ("officer", "researcher2", "owner"):
        with pytest.raises(AccessDenied):
            exports.submit(portal, actor=outsider, request_id=rid)
        with pytest.raises(AccessDenied):
            exports.withdraw(portal, actor=outsider, request_id=rid)
    exports.submit(portal, actor="operator", request_id=rid)  # a team member may
    with pytest.raises(InvalidTransition):
        exports.withdraw(portal, actor="researcher", request_id=rid)
    with pytest.raises(InvalidTransition):
        exports.submit(portal, actor="researcher", request_id=rid)


def test_withdraw_pending_and_returned(portal: Portal, tmp_path: Path) -> None:
    grant_id = make_grant(portal)
    first = requested(portal, tmp_path, grant_id, {"t.csv": SAFE_TABLE})
    exports.withdraw(portal, actor="researcher", request_id=first)
    assert status(portal, first) == E.WITHDRAWN
    assert list((exports.holding_dir(portal, grant_id) / str(first)).iterdir()) == []
    with pytest.raises(InvalidTransition):
        exports.submit(portal, actor="researcher", request_id=first)
    second = requested(portal, tmp_path, grant_id, {"u.csv": SAFE_TABLE})
    exports.submit(portal, actor="researcher", request_id=second)
    exports.decide(
        portal, actor="officer", request_id=second, decision="return", comment="补充说明"
    )
    exports.withdraw(portal, actor="researcher", request_id=second)
    assert status(portal, second) == E.WITHDRAWN


def test_reject_only_after_review(portal: Portal, tmp_path: Path) -> None:
    grant_id = make_grant(portal)
    rid = requested(portal, tmp_path, grant_id, {"t.csv": SAFE_TABLE})
    exports.submit(portal, actor="researcher", request_id=rid)
    with pytest.raises(InvalidTransition):
        exports.decide(portal, actor="officer", request_id=rid, decision="reject", comment="不")
    review_all(portal, rid, "officer", Vote.CHANGES)
    exports.decide(
        portal, actor="officer2", request_id=rid, decision="reject", comment="含个人记录"
    )
    assert status(portal, rid) == E.REJECTED
    with pytest.raises(InvalidTransition):
        exports.release(portal, actor="officer", request_id=rid)


def test_failing_checks_must_be_answered_before_submitting(portal: Portal, tmp_path: Path) -> None:
    grant_id = make_grant(portal)
    rid = requested(portal, tmp_path, grant_id, {"small.csv": SMALL_CELLS, "people.csv": PERSONAL})
    with portal.sessions() as session:
        request = session.get(ExportRequest, rid)
        assert request is not None
        failing = {f.name: [c["check"] for c in f.failing_checks] for f in request.files}
    assert failing["small.csv"] == ["disclosure.min_cell_count"]
    assert "personal_data" in failing["people.csv"]
    with pytest.raises(InvalidInput):
        exports.submit(portal, actor="researcher", request_id=rid)
    for fid in file_ids(portal, rid):
        exports.answer_checks(
            portal, actor="researcher", request_id=rid, file_id=fid, response="将在报告中合并"
        )
    exports.submit(portal, actor="researcher", request_id=rid)
    assert status(portal, rid) == E.SUBMITTED


def test_every_group_needs_context_and_controls(portal: Portal, tmp_path: Path) -> None:
    grant_id = make_grant(portal)
    outbox(tmp_path, grant_id).joinpath("t.csv").write_text(SAFE_TABLE)
    request = exports.request_export(
        portal, actor="researcher", grant_id=grant_id, files=["t.csv"], justification="图 1"
    )
    with pytest.raises(InvalidInput):
        exports.submit(portal, actor="researcher", request_id=request.id)
    exports.set_group(
        portal,
        actor="researcher",
        request_id=request.id,
        group="default",
        context="图 1",
        controls="仅汇总数",
    )
    exports.submit(portal, actor="researcher", request_id=request.id)


def test_a_change_in_the_workspace_does_not_change_the_review(
    portal: Portal, tmp_path: Path
) -> None:
    grant_id = make_grant(portal)
    rid = requested(portal, tmp_path, grant_id, {"t.csv": SAFE_TABLE})
    (outbox(tmp_path, grant_id) / "t.csv").write_text(PERSONAL)  # changed after the request
    exports.submit(portal, actor="researcher", request_id=rid)
    fid = file_ids(portal, rid)[0]
    file, data = exports.file_content(portal, actor="officer", request_id=rid, file_id=fid)
    assert data == SAFE_TABLE.encode()
    assert file.sha256 == hashlib.sha256(SAFE_TABLE.encode()).hexdigest()
    review_all(portal, rid, "officer")
    exports.decide(portal, actor="officer", request_id=rid, decision="approve")
    exports.release(portal, actor="officer", request_id=rid)
    _, released = exports.download(portal, actor="researcher", request_id=rid, file_id=fid)
    assert released == SAFE_TABLE.encode()


def test_the_held_copy_is_sealed(portal: Portal, tmp_path: Path) -> None:
    grant_id = make_grant(portal)
    rid = requested(portal, tmp_path, grant_id, {"people.csv": PERSONAL})
    held = [p for p in exports.holding_dir(portal, grant_id).rglob("*") if p.is_file()]
    assert len(held) == 1
    assert b"13812345678" not in held[0].read_bytes()
    blob = bytearray(held[0].read_bytes())
    blob[-1] ^= 1
    held[0].write_bytes(bytes(blob))
    exports.answer_checks(
        portal,
        actor="researcher",
        request_id=rid,
        file_id=file_ids(portal, rid)[0],
        response="误放",
    )
    exports.submit(portal, actor="researcher", request_id=rid)
    before = portal.audit.size
    with pytest.raises(Exception, match="authenticate"):
        exports.file_content(
            portal, actor="officer", request_id=rid, file_id=file_ids(portal, rid)[0]
        )
    assert portal.audit.size == before  # nothing was read, nothing is recorded


def test_updating_a_file_resets_its_votes(portal: Portal, tmp_path: Path) -> None:
    grant_id = make_grant(portal, Level.L3)
    rid = requested(portal, tmp_path, grant_id, {"t.csv": SAFE_TABLE, "keep.txt": "说明"})
    exports.submit(portal, actor="researcher", request_id=rid)
    t, keep = file_ids(portal, rid)
    review_all(portal, rid, "officer")
    exports.vote(portal, actor="officer2", request_id=rid, file_id=t, decision=Vote.CHANGES)
    exports.vote(portal, actor="officer2", request_id=rid, file_id=keep, decision=Vote.APPROVE)
    exports.complete_review(portal, actor="officer2", request_id=rid)
    exports.decide(portal, actor="officer2", request_id=rid, decision="return", comment="合并小区")
    with pytest.raises(InvalidTransition):  # no votes while returned
        exports.vote(portal, actor="officer", request_id=rid, file_id=t, decision=Vote.APPROVE)
    (outbox(tmp_path, grant_id) / "t.csv").write_text("区,人数\n全市,215\n")
    exports.update_file(portal, actor="researcher", request_id=rid, file_id=t)
    exports.submit(portal, actor="researcher", request_id=rid)
    with portal.sessions() as session:
        request = session.get(ExportRequest, rid)
        assert request is not None and request.round == 2
        updated, kept = request.files
        assert updated.version == 2 and exports.approvals(updated) == set()
        assert exports.current_vote(updated, "officer") is None
        assert exports.approvals(kept) == {"officer", "officer2"}  # unchanged: votes stand
    # a new round: both officers review again, voting only on what changed
    for officer in ("officer", "officer2"):
        exports.vote(portal, actor=officer, request_id=rid, file_id=t, decision=Vote.APPROVE)
        exports.complete_review(portal, actor=officer, request_id=rid)
    exports.decide(portal, actor="officer", request_id=rid, decision="approve")
    assert status(portal, rid) == E.APPROVED


def test_comments_private_to_officers(portal: Portal, tmp_path: Path) -> None:
    grant_id = make_grant(portal)
    rid = requested(portal, tmp_path, grant_id, {"t.csv": SAFE_TABLE})
    exports.submit(portal, actor="researcher", request_id=rid)
    exports.comment(
        portal,
        actor="officer",
        request_id=rid,
        text="内部：核对口径",
        visibility=Visibility.PRIVATE,
    )
    exports.comment(portal, actor="officer", request_id=rid, text="请说明数据来源")
    exports.comment(portal, actor="researcher", request_id=rid, text="来源为 12345 热线")
    with pytest.raises(Forbidden):
        exports.comment(
            portal, actor="researcher", request_id=rid, text="x", visibility=Visibility.PRIVATE
        )
    with pytest.raises(Forbidden):
        exports.comment(portal, actor="researcher2", request_id=rid, text="x")
    with portal.sessions() as session:
        request = exports.get_request(portal, session, actor="researcher", request_id=rid)
        seen = [c.text for c in exports.visible_comments(portal, session, request, "researcher")]
        assert seen == ["请说明数据来源", "来源为 12345 热线"]
        seen = [c.text for c in exports.visible_comments(portal, session, request, "officer2")]
        assert len(seen) == 3


def test_outsiders_cannot_read_a_request(portal: Portal, tmp_path: Path) -> None:
    grant_id = make_grant(portal)
    rid = requested(portal, tmp_path, grant_id, {"t.csv": SAFE_TABLE})
    with portal.sessions() as session:
        for reader in ("researcher", "operator", "officer", "admin"):
            exports.get_request(portal, session, actor=reader, request_id=rid)
        for outsider in ("researcher2", "owner", ""):
            with pytest.raises(NotFound):
                exports.get_request(portal, session, actor=outsider, request_id=rid)


def test_review_queue(portal: Portal, tmp_path: Path) -> None:
    grant_id = make_grant(portal, Level.L3)
    rid = requested(portal, tmp_path, grant_id, {"t.csv": SAFE_TABLE})
    with portal.sessions() as session:
        assert exports.review_queue(portal, session, actor="officer") == []
    exports.submit(portal, actor="researcher", request_id=rid)
    review_all(portal, rid, "officer")
    with portal.sessions() as session:
        assert exports.review_queue(portal, session, actor="officer") == []
        assert [r.id for r in exports.review_queue(portal, session, actor="officer2")] == [rid]
        assert exports.review_queue(portal, session, actor="researcher") == []


# ---- what the portal takes from the workspace ----------------------------------------------


@pytest.mark.parametrize("name", ["../secret.csv", "/etc/passwd", "a/../../b", "", "a//b", "a\\b"])
def test_paths_outside_the_outbox_are_refused(portal: Portal, tmp_path: Path, name: str) -> None:
    grant_id = make_grant(portal)
    outbox(tmp_path, grant_id)
    with pytest.raises(InvalidInput):
        exports.request_export(portal, actor="researcher", grant_id=grant_id, files=[name])


def test_symlinks_fifos_and_directories_are_refused(portal: Portal, tmp_path: Path) -> None:
    grant_id = make_grant(portal)
    box = outbox(tmp_path, grant_id)
    secret = tmp_path / "secret.csv"
    secret.write_text("机密")
    (box / "link.csv").symlink_to(secret)
    (box / "dir").mkdir()
    (box / "linkdir").symlink_to(tmp_path)
    os.mkfifo(box / "pipe.csv")
    for name in ("link.csv", "dir", "linkdir/secret.csv", "pipe.csv", "missing.csv"):
        with pytest.raises(InvalidInput):
            exports.request_export(portal, actor="researcher", grant_id=grant_id, files=[name])
    with portal.sessions() as session:
        assert exports.list_requests(portal, session, actor="researcher") == []


def test_a_symlinked_outbox_is_refused(portal: Portal, tmp_path: Path) -> None:
    grant_id = make_grant(portal)
    box = outbox(tmp_path, grant_id)
    box.rmdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "t.csv").write_text(SAFE_TABLE)
    box.symlink_to(elsewhere)
    with pytest.raises(InvalidInput):
        exports.request_export(portal, actor="researcher", grant_id=grant_id, files=["t.csv"])


def test_files_above_the_limit_are_refused(portal: Portal, tmp_path: Path) -> None:
    grant_id = make_grant(portal)
    box = outbox(tmp_path, grant_id)
    (box / "big.txt").write_bytes(b"0" * (20 * 1024 * 1024 + 1))
    with pytest.raises(InvalidInput, match="limit"):
        exports.request_export(portal, actor="researcher", grant_id=grant_id, files=["big.txt"])


def test_files_in_subdirectories(portal: Portal, tmp_path: Path) -> None:
    grant_id = make_grant(portal)
    rid = requested(
        portal,
        tmp_path,
        grant_id,
        {"figures/fig1.svg": "<svg xmlns='http://www.w3.org/2000/svg'/>"},
    )
    with portal.sessions() as session:
        request = session.get(ExportRequest, rid)
        assert request is not None
        assert request.files[0].name == "figures/fig1.svg" and request.files[0].kind == "svg"
        assert all(c["passed"] for c in request.files[0].checks)


@pytest.mark.parametrize("layout", ["sealed", "plain"])
def test_pseudonyms_of_the_release_where_the_workspace_gets_it(
    portal: Portal, tmp_path: Path, layout: str
) -> None:
    """The release as ``open_portal.workspaces`` lays it out: sealed at rest, plain when mounted."""
    import polars as pl

    from desensitize import pseudonymize
    from open_portal.models import Grant
    from open_portal.vault import Vault
    from open_portal.workspaces import release_dir, sealed_dir

    grant_id = make_grant(portal)
    with portal.sessions() as session:
        grant = session.get(Grant, grant_id)
        assert grant is not None and grant.wrapped_key is not None
        key, wrapped = portal.vault.unwrap(grant.wrapped_key), grant.wrapped_key
    pseudonyms = [pseudonymize(f"3301061990010{i:05d}", key) for i in range(40)]
    table = io.BytesIO()
    pl.DataFrame({"caller": pseudonyms, "n": list(range(40))}).write_parquet(table)
    if layout == "sealed":
        Vault(sealed_dir(portal, grant_id), portal.vault.master_key).seal(
            "tickets.parquet", table.getvalue(), wrapped
        )
    else:
        release_dir(portal, grant_id).mkdir(parents=True)
        (release_dir(portal, grant_id) / "tickets.parquet").write_bytes(table.getvalue())
    copied = "caller\n" + "\n".join(p.upper()[:14] for p in pseudonyms[:30]) + "\n"
    rid = requested(portal, tmp_path, grant_id, {"ids.csv": copied})
    with portal.sessions() as session:
        request = session.get(ExportRequest, rid)
        assert request is not None
        (check,) = [c for c in request.files[0].checks if c["check"] == "pseudonyms"]
    assert check["passed"] is False and check["details"]["count"] == 30


LONG = "长" * 4001


@pytest.mark.parametrize(
    "write",
    [
        lambda p, rid, fid: exports.comment(p, actor="researcher", request_id=rid, text=LONG),
        lambda p, rid, fid: exports.answer_checks(
            p, actor="researcher", request_id=rid, file_id=fid, response=LONG
        ),
        lambda p, rid, fid: exports.set_group(
            p, actor="researcher", request_id=rid, group="default", context=LONG, controls="x"
        ),
        lambda p, rid, fid: exports.set_group(
            p, actor="researcher", request_id=rid, group="default", context="x", controls=LONG
        ),
        lambda p, rid, fid: exports.add_files(
            p, actor="researcher", request_id=rid, files=["b.csv"], group="g" * 65
        ),
        lambda p, rid, fid: exports.add_files(
            p, actor="researcher", request_id=rid, files=["b" * 600 + ".csv"]
        ),
        lambda p, rid, fid: exports.decide(
            p, actor="officer", request_id=rid, decision="return", comment=LONG
        ),
    ],
)
def test_every_free_text_field_is_bounded(portal: Portal, tmp_path: Path, write: object) -> None:
    grant_id = make_grant(portal)
    rid = requested(portal, tmp_path, grant_id, {"t.csv": SAFE_TABLE, "b.csv": SAFE_TABLE})
    fid = file_ids(portal, rid)[0]
    before = portal.audit.size
    with pytest.raises(InvalidInput) as refused:
        write(portal, rid, fid)  # type: ignore[operator]
    assert refused.value.message_zh != str(refused.value)  # both languages
    assert portal.audit.size == before


def test_the_justification_from_a_workspace_is_bounded(portal: Portal, tmp_path: Path) -> None:
    grant_id = make_grant(portal)
    (outbox(tmp_path, grant_id) / "t.csv").write_text(SAFE_TABLE)
    for long in ({"justification": LONG}, {"controls": LONG}, {"group": "g" * 65}):
        with pytest.raises(InvalidInput):
            exports.request_export(
                portal, actor="researcher", grant_id=grant_id, files=["t.csv"], **long
            )
