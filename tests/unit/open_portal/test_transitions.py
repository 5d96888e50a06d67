"""The state machine: one table per kind, the only place a state changes, a 409 for the rest."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from open_portal.exceptions import InvalidTransition
from open_portal.models import (
    Application,
    ApplicationStatus,
    ExportRequest,
    ExportStatus,
    Grant,
    GrantStatus,
)
from open_portal.service import transitions

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("open_portal", "sandbox", "audit", "policies", "desensitize")
THE_TABLE = Path("open_portal/service/transitions.py")
GOVERNED = {cls.__name__ for cls in transitions.MACHINES}
# Status of background jobs, not of a governed object: no decision, no move of the tables.
JOB_STATUS = {
    ("open_portal/service/harvest.py", "source.status = HarvestStatus.OK"),
    ("open_portal/service/harvest.py", "source.status = HarvestStatus.FAILED"),
}


def state_writes(path: Path) -> list[str]:
    """Every statement of the file that sets a ``status`` or ``state``, as source text."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        if any(isinstance(t, ast.Attribute) and t.attr in ("status", "state") for t in targets):
            found.append(ast.unparse(node))
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else ""
            name = node.func.id if isinstance(node.func, ast.Name) else name
            keywords = {k.arg for k in node.keywords}
            if name in (*GOVERNED, "values") and "status" in keywords:
                found.append(ast.unparse(node))
            if name == "setattr" and any(
                isinstance(a, ast.Constant) and a.value in ("status", "state") for a in node.args
            ):
                found.append(ast.unparse(node))
    return found


def test_no_code_sets_a_state_outside_the_table() -> None:
    offenders = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if relative == THE_TABLE or "migrations" in relative.parts:
                continue
            for line in state_writes(path):
                if (relative.as_posix(), line) not in JOB_STATUS:
                    offenders.append(f"{relative}: {line}")
    assert offenders == []


def test_the_scan_sees_what_it_looks_for(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "app.status = 'approved'\n"
        "grant.state += 1\n"
        "setattr(request, 'status', 'released')\n"
        "ExportRequest(grant_id='g0001', status='pending')\n"
        "update(Grant).values(status='revoked')\n"
        "Grant.status == 'active'\n"
        "other(status=1)\n"
    )
    assert len(state_writes(sample)) == 5


@pytest.mark.parametrize(
    ("kind", "states"),
    [(Application, ApplicationStatus), (Grant, GrantStatus), (ExportRequest, ExportStatus)],
)
def test_every_move_not_in_the_table_is_refused(kind: type, states: type) -> None:
    table = transitions.MACHINES[kind].table
    actions = sorted({a for _, a in table})
    for state in states:  # type: ignore[attr-defined]
        for action in actions:
            obj = kind(status=state)
            if (state, action) in table:
                assert transitions.move_of(obj, action) == table[(state, action)]
                assert transitions.can_move(obj, action)
            else:
                with pytest.raises(InvalidTransition) as refused:
                    transitions.move_of(obj, action)
                assert action in str(refused.value) and action in refused.value.message_zh
                assert not transitions.can_move(obj, action)


def test_every_move_names_an_event_of_its_kind() -> None:
    prefix = {
        Application: "application.",
        Grant: "grant.",
        ExportRequest: "export.",
    }
    for kind, machine in transitions.MACHINES.items():
        for (start, action), move in machine.table.items():
            assert move.event is not None or (kind.__name__, action) == (
                "GrantDestruction",
                "finish",
            )
            if move.event is not None:
                assert move.event.startswith(prefix.get(kind, "grant.")), (start, action)


def test_terminal_states_have_no_way_out() -> None:
    ends = {
        Application: {ApplicationStatus.APPROVED, ApplicationStatus.REJECTED},
        Grant: {GrantStatus.DESTROYED},
        ExportRequest: {ExportStatus.RELEASED, ExportStatus.REJECTED, ExportStatus.WITHDRAWN},
    }
    for kind, terminal in ends.items():
        assert not [k for k in transitions.MACHINES[kind].table if k[0] in terminal]
