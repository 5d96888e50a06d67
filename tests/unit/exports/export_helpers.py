"""Builders shared by the export and destruction tests."""

from __future__ import annotations

from pathlib import Path

from factories import join_team, submitted_application

from open_portal.models import Decision, Level
from open_portal.service import applications
from open_portal.service.context import Portal


def make_grant(portal: Portal, level: Level = Level.L2, team: list[str] | None = None) -> str:
    dataset = "tickets" if level == Level.L2 else "payments"
    app_id = submitted_application(
        portal,
        [dataset],
        level,
        epsilon="3",
        team_members=team if team is not None else ["operator"],
    )
    applications.review(portal, actor="owner", application_id=app_id, decision=Decision.APPROVE)
    if level == Level.L3:
        applications.review(
            portal, actor="officer", application_id=app_id, decision=Decision.APPROVE
        )
    join_team(portal, f"g{app_id:04d}", team if team is not None else ["operator"])
    return f"g{app_id:04d}"


def outbox(tmp_path: Path, grant_id: str) -> Path:
    """The grant's outbox where the sandbox puts it: <workspace root>/<grant>/home/outbox."""
    box = tmp_path / "workspaces" / grant_id / "home" / "outbox"
    box.mkdir(parents=True, exist_ok=True)
    return box


SAFE_TABLE = "区,人数\n西湖区,120\n上城区,95\n合计,215\n"
SMALL_CELLS = "区,人数\n西湖区,120\n上城区,7\n合计,127\n"
PERSONAL = "姓名,手机\n张伟,13812345678\n"
