"""The application form refused: the message above the form, everything typed kept, nothing saved."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from factories import add_dataset, portal_at
from fastapi.testclient import TestClient
from hub_users import PREFIX, app_for, auth_header
from sqlalchemy import func, select

from open_portal.models import Application, Level
from open_portal.service.context import Portal


@pytest.fixture
def client(tmp_path: Path, database_url: str) -> Iterator[tuple[TestClient, Portal]]:
    with portal_at(tmp_path / "data", database_url) as portal:
        add_dataset(portal, "tickets", Level.L2, publisher="hotline")
        add_dataset(portal, "payments", Level.L3, publisher="hrss")
        app = app_for(portal, ["researcher"])
        yield TestClient(app, follow_redirects=False), portal


def form(**changes: object) -> dict[str, object]:
    """The form as a browser sends it; a change to ``None`` leaves the field out (unticked)."""
    fields = {
        "dataset_ids": ["tickets", "payments"],
        "purpose": "热线与社保的关联分析",
        "team_members": "",
        "epsilon": "1",
        "starts_on": "2026-12-01",
        "ends_on": "2027-01-31",
        "agreement_accepted": "true",
        "commitment_accepted": "true",
        **changes,
    }
    return {k: v for k, v in fields.items() if v is not None}


def applications(portal: Portal) -> int:
    with portal.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Application)) or 0)


@pytest.mark.parametrize(
    ("changes", "zh", "en"),
    [
        ({"epsilon": "lots"}, "隐私预算 ε 须为数字", "epsilon must be a decimal number"),
        ({"ends_on": "2026-11-30"}, "结束日期须晚于开始日期", "after its start"),
        ({"commitment_accepted": None}, "安全承诺", "security commitment"),
        ({"team_members": "nobody"}, "不是平台用户", "unknown team member"),
    ],
)
def test_a_refusal_shows_the_form_again_with_what_was_typed(
    client: tuple[TestClient, Portal], changes: dict[str, object], zh: str, en: str
) -> None:
    http, portal = client
    for lang, expected in (("zh", zh), ("en", en)):
        answer = http.post(
            f"{PREFIX}/applications",
            params={"submit": "true", "lang": lang},
            data=form(**changes),
            headers=auth_header("researcher"),
        )
        assert answer.status_code in (400, 403, 409, 422), answer.text
        html = answer.text
        assert 'id="application-error"' in html and expected in html
        assert "热线与社保的关联分析</textarea>" in html  # what was typed, kept
        assert html.count('name="dataset_ids" value="tickets" data-level="L2" checked') == 1
        assert 'value="payments" data-level="L3" checked' in html
        assert 'value="2026-12-01"' in html
        assert ('id="commitment" checked' in html) == ("commitment_accepted" not in changes)
    assert applications(portal) == 0  # nothing saved


def test_an_accepted_form_goes_to_its_application(client: tuple[TestClient, Portal]) -> None:
    http, portal = client
    answer = http.post(
        f"{PREFIX}/applications",
        params={"submit": "true"},
        data=form(),
        headers=auth_header("researcher"),
    )
    assert answer.status_code == 303 and "/applications/" in answer.headers["location"]
    assert applications(portal) == 1
