"""DP queries through the portal's service layer: charged, answered, on the record, or refused."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from factories import add_dataset, join_team, portal_at, submitted_application
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hub_users import PREFIX, app_for, auth_header

from desensitize.dp import QueryError
from desensitize.dp.accuracy import resolution
from desensitize.dp.mechanisms import geometric_half_width
from open_portal import ledger
from open_portal.exceptions import InvalidTransition, NotFound
from open_portal.models import (
    Application,
    ApplicationStatus,
    DatasetVersion,
    Decision,
    Grant,
    Level,
)
from open_portal.routes import dp as dp_routes
from open_portal.service import applications, catalog, dp, grants, workspace_credentials
from open_portal.service.context import Portal
from open_portal.service.usage import grant_usage
from open_portal.views.applications import application_out
from open_portal.web import Guard
from policies import AccessDenied

DISTRICTS = ["西湖区", "上城区", "滨江区"]
DP_SCHEMA = {
    "columns": {
        "district": {"type": "categorical", "domain": DISTRICTS},
        "payment": {"type": "numeric", "lower": 0, "upper": 3000},
    },
    "privacy_unit": {"column": "id_number", "max_contributions": 2},
    "max_query_epsilon": "1",
}
ROWS = 3_000


def seal_payments(portal: Portal) -> int:
    """Put a real CSV behind the dataset's version in the vault; returns the true row count."""
    rng = np.random.default_rng(3)
    frame = pl.DataFrame(
        {
            "id_number": [f"P{i % 1000:04d}" for i in range(ROWS)],
            "district": rng.choice(DISTRICTS, ROWS),
            "payment": rng.uniform(0, 2500, ROWS).round(2),
        }
    )
    with portal.sessions() as session:
        version = session.query(DatasetVersion).filter_by(dataset_id="payments").one()
        portal.vault.seal("payments-v1.csv", frame.write_csv().encode(), version.wrapped_key)
    return frame.group_by("id_number").head(2).height


@pytest.fixture
def portal(tmp_path: Path, database_url: str) -> Iterator[Portal]:
    with portal_at(tmp_path / "data", database_url) as p:
        add_dataset(p, "payments", Level.L3, publisher="hrss", dp_schema=DP_SCHEMA)
        p.policy.assign_role("owner", "owner", "dept:hrss")
        yield p


def l3_grant(portal: Portal, epsilon: str = "2") -> str:
    app_id = submitted_application(
        portal, ["payments"], Level.L3, epsilon=epsilon, team_members=["operator"]
    )
    for reviewer in ("owner", "officer"):
        applications.review(
            portal, actor=reviewer, application_id=app_id, decision=Decision.APPROVE
        )
    join_team(portal, f"g{app_id:04d}", ["operator"])
    return f"g{app_id:04d}"


def events(portal: Portal, kind: str) -> list[Any]:
    return [e for _, e in portal.audit.entries() if e.type == kind]


def test_an_answer_is_charged_and_on_the_record(portal: Portal) -> None:
    limited_rows = seal_payments(portal)
    grant_id = l3_grant(portal)
    answer = dp.run_dp_query(
        portal,
        actor="operator",
        grant_id=grant_id,
        query={"kind": "count", "epsilon": "0.5"},
    )
    result = answer["result"]
    # the service draws real (unseeded) noise: a bound it exceeds once in a billion runs
    bound = geometric_half_width(0.5, DP_SCHEMA["privacy_unit"]["max_contributions"], alpha=1e-9)
    assert abs(result["value"] - limited_rows) <= bound
    assert result["ci95"] == geometric_half_width(0.5, 2)
    assert answer["budget"] == {"total": "2", "spent": "0.5", "remaining": "1.5"}
    [event] = events(portal, "dp.query")
    assert event.actor == "operator" and event.subject == f"grant:{grant_id}"
    assert event.details["epsilon"] == "0.5"
    assert event.details["answer_hash"] == answer["answer_hash"]
    assert event.details["remaining"] == "1.5"
    [charge] = ledger.charges(portal.engine, grant_id)
    assert charge.answer_hash == answer["answer_hash"]
    assert grant_usage(portal, _grant(portal, grant_id)).queries == 1
    assert ledger.balance(portal.engine, grant_id).spent == Decimal("0.5")

    grouped = dp.run_dp_query(
        portal,
        actor="researcher",
        grant_id=grant_id,
        dataset_id="payments",
        query={"kind": "group_sum", "column": "payment", "group_by": ["district"], "epsilon": "1"},
    )
    assert [row["district"] for row in grouped["result"]["value"]] == DISTRICTS
    history = dp.budget_history(portal, actor="owner", grant_id=grant_id)
    assert [c["spent"] for c in history["charges"]] == ["0.5", "1.5"]
    assert history["budget"]["remaining"] == "0.5"


def test_answers_are_released_rounded_to_their_noise(portal: Portal) -> None:
    seal_payments(portal)
    grant_id = l3_grant(portal)
    answer = dp.run_dp_query(
        portal,
        actor="operator",
        grant_id=grant_id,
        query={"kind": "group_sum", "column": "payment", "group_by": ["district"], "epsilon": "1"},
    )
    result = answer["result"]
    step = resolution(result["ci95"])
    assert result["resolution"] == step and step is not None and step >= 100
    for row in result["value"]:
        assert row["value"] == round(row["value"] / step) * step
        assert repr(row["value"]).endswith("00.0")  # no 672000.0000006985
    [event] = events(portal, "dp.query")
    assert event.details["answer_hash"] == answer["answer_hash"]


def test_an_accuracy_preview_spends_and_records_nothing(portal: Portal) -> None:
    grant_id = l3_grant(portal)
    before = len(list(portal.audit.entries()))
    shown = dp.preview_accuracy(
        portal,
        actor="operator",
        grant_id=grant_id,
        dataset_id="payments",
        query={"kind": "sum", "column": "payment"},
        ci95=50_000.0,
    )
    assert shown["reachable"] and shown["ci95"] <= 50_000
    assert Decimal(shown["epsilon"]) <= Decimal("1")
    assert shown["remaining"] == "2"
    at = dp.preview_accuracy(
        portal,
        actor="operator",
        grant_id=grant_id,
        dataset_id=None,
        query={"kind": "count", "epsilon": "0.5"},
    )
    assert at["ci95"] == geometric_half_width(0.5, 2)
    assert ledger.charges(portal.engine, grant_id) == []
    assert len(list(portal.audit.entries())) == before
    with pytest.raises(NotFound):
        dp.preview_accuracy(
            portal, actor="someone", grant_id=grant_id, dataset_id=None, query={"kind": "count"}
        )


def test_the_accuracy_form_and_api(portal: Portal) -> None:
    grant_id = l3_grant(portal)
    client = TestClient(app_for(portal, ["operator", "someone"]), follow_redirects=False)
    page = client.get(
        f"{PREFIX}/grants/{grant_id}/accuracy",
        params={"dataset": "payments", "kind": "count", "epsilon": "0.5", "lang": "en"},
        headers=auth_header("operator"),
    )
    assert page.status_code == 200
    assert 'id="accuracy-result"' in page.text and "±<strong" in page.text
    wrong = client.get(
        f"{PREFIX}/grants/{grant_id}/accuracy",
        params={"dataset": "payments", "kind": "sum", "column": "district", "epsilon": "0.5"},
        headers=auth_header("operator"),
    )
    assert wrong.status_code == 200  # the problem is shown on the form, which keeps the input
    assert 'id="accuracy-error"' in wrong.text and "声明上下界" in wrong.text
    assert 'value="0.5"' in wrong.text
    outsider = client.get(f"{PREFIX}/grants/{grant_id}/accuracy", headers=auth_header("someone"))
    assert outsider.status_code == 404
    token = workspace_credentials.issue(portal, grant_id=grant_id, user="operator")
    api = client.post(
        f"{PREFIX}/api/workspace/grants/{grant_id}/dp/preview",
        json={"dataset": "payments", "kind": "mean", "column": "payment", "ci95": 100, "rows": 900},
        headers={"Authorization": f"workspace {token}"},
    )
    assert api.status_code == 200, api.text
    assert api.json()["rows"] == 900 and api.json()["reachable"] and api.json()["ci95"] <= 100
    assert ledger.charges(portal.engine, grant_id) == []


def _grant(portal: Portal, grant_id: str) -> Any:
    from open_portal.models import Grant

    with portal.sessions() as session:
        return session.get(Grant, grant_id)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"kind": "sum", "column": "id_number", "epsilon": "0.1"}, "not declared"),
        ({"kind": "sum", "column": "district", "epsilon": "0.1"}, "declared bounds"),
        ({"kind": "count", "epsilon": "0"}, "positive"),
        ({"kind": "count", "epsilon": "-0.1"}, "positive"),
        ({"kind": "count", "epsilon": "1.5"}, "per-query cap 1"),
    ],
)
def test_invalid_queries_spend_nothing(portal: Portal, query: dict[str, Any], message: str) -> None:
    grant_id = l3_grant(portal)
    with pytest.raises(QueryError, match=message):
        dp.run_dp_query(portal, actor="operator", grant_id=grant_id, query=query)
    assert ledger.balance(portal.engine, grant_id).spent == 0
    assert ledger.charges(portal.engine, grant_id) == []


def test_exhausted_budget_is_refused_with_what_is_left(portal: Portal) -> None:
    seal_payments(portal)
    grant_id = l3_grant(portal, epsilon="1")
    dp.run_dp_query(
        portal, actor="operator", grant_id=grant_id, query={"kind": "count", "epsilon": "0.8"}
    )
    with pytest.raises(ledger.BudgetExhausted, match=r"ε 0\.2 left of 1") as refused:
        dp.run_dp_query(
            portal, actor="operator", grant_id=grant_id, query={"kind": "count", "epsilon": "0.3"}
        )
    assert "隐私预算不足" in refused.value.message_zh
    assert ledger.balance(portal.engine, grant_id).spent == Decimal("0.8")
    [event] = events(portal, "dp.query.refused")
    assert "exhausted" in event.details["reason"]


def test_after_the_grant_ended_nothing_is_spent(portal: Portal) -> None:
    seal_payments(portal)
    grant_id = l3_grant(portal)
    ends = _grant(portal, grant_id).ends_at
    portal.clock = lambda: ends + dt.timedelta(seconds=1)
    with pytest.raises(ledger.GrantEnded, match="nothing was spent"):
        dp.run_dp_query(
            portal, actor="operator", grant_id=grant_id, query={"kind": "count", "epsilon": "0.1"}
        )
    assert ledger.balance(portal.engine, grant_id).spent == 0


def test_a_revoked_grant_answers_nothing(portal: Portal) -> None:
    seal_payments(portal)
    grant_id = l3_grant(portal)
    grants.change_status(portal, actor="officer", grant_id=grant_id, action="revoke")
    with pytest.raises(ledger.GrantEnded, match="revoked"):
        dp.run_dp_query(
            portal, actor="operator", grant_id=grant_id, query={"kind": "count", "epsilon": "0.1"}
        )
    assert ledger.balance(portal.engine, grant_id).spent == 0


def test_outsiders_cannot_query(portal: Portal) -> None:
    grant_id = l3_grant(portal)
    with pytest.raises(NotFound):
        dp.run_dp_query(
            portal, actor="someone", grant_id=grant_id, query={"kind": "count", "epsilon": "0.1"}
        )
    with pytest.raises(NotFound, match="not in grant"):
        dp.run_dp_query(
            portal,
            actor="operator",
            grant_id=grant_id,
            dataset_id="other",
            query={"kind": "count", "epsilon": "0.1"},
        )
    assert ledger.balance(portal.engine, grant_id).spent == 0


def test_dp_routes_are_guarded() -> None:
    routes = [r for r in dp_routes.router.routes if isinstance(r, APIRoute)]
    assert {r.path for r in routes} == {
        "/api/workspace/grants/{grant_id}/dp",
        "/api/grants/{grant_id}/budget",
        "/api/workspace/grants/{grant_id}/budget",
        "/api/workspace/grants/{grant_id}/dp/preview",
        "/grants/{grant_id}/accuracy",
    }
    for route in routes:
        guards = [d.call for d in route.dependant.dependencies if isinstance(d.call, Guard)]
        assert guards and all(g.login for g in guards)


def test_fifty_concurrent_queries_never_overspend(portal: Portal) -> None:
    """The race of the ledger tests, end to end: every answer is charged and on the record."""
    seal_payments(portal)
    grant_id = l3_grant(portal, epsilon="1")
    dp.run_dp_query(  # warm the prepared-frame cache so the race is about the budget
        portal, actor="operator", grant_id=grant_id, query={"kind": "count", "epsilon": "0.01"}
    )
    barrier = threading.Barrier(50)
    answers: list[dict[str, Any]] = []
    refusals: list[Exception] = []
    lock = threading.Lock()

    def ask() -> None:
        barrier.wait()
        try:
            answer = dp.run_dp_query(
                portal,
                actor="operator",
                grant_id=grant_id,
                query={"kind": "sum", "column": "payment", "epsilon": "0.03"},
            )
        except Exception as exc:  # collected and checked below
            with lock:
                refusals.append(exc)
        else:
            with lock:
                answers.append(answer)

    threads = [threading.Thread(target=ask) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 33  # 0.01 + 33 × 0.03 = 1.0
    assert all(isinstance(e, ledger.BudgetExhausted) for e in refusals) and len(refusals) == 17
    assert ledger.balance(portal.engine, grant_id).spent == Decimal("1")
    recorded = events(portal, "dp.query")
    assert len(recorded) == 34
    assert {e.details["answer_hash"] for e in recorded} >= {a["answer_hash"] for a in answers}
    assert len(events(portal, "dp.query.refused")) == 17
    assert all(c.answer_hash for c in ledger.charges(portal.engine, grant_id))


def test_grants_on_one_dataset_share_its_total_budget(portal: Portal) -> None:
    seal_payments(portal)
    with pytest.raises(AccessDenied):  # only the dataset's owner sets it
        catalog.set_privacy_budget(portal, actor="researcher", dataset_id="payments", total="1")
    catalog.set_privacy_budget(
        portal, actor="owner", dataset_id="payments", total="1", per_person="0.6"
    )
    # each grant may get what the dataset and the applicant's share have left at approval
    first, second = l3_grant(portal, "0.6"), l3_grant(portal, "0.6")
    count = {"kind": "count", "epsilon": "0.5"}
    dp.run_dp_query(portal, actor="researcher", grant_id=first, query=count)
    with pytest.raises(ledger.PersonBudgetExhausted):  # 0.5 + 0.5 > 0.6 for one person
        dp.run_dp_query(portal, actor="researcher", grant_id=second, query=count)
    dp.run_dp_query(portal, actor="operator", grant_id=second, query=count)
    with pytest.raises(ledger.DatasetBudgetExhausted):  # every grant has budget, the dataset not
        dp.run_dp_query(portal, actor="operator", grant_id=first, query={**count, "epsilon": "0.1"})
    state = ledger.dataset_balance(portal.engine, "payments")
    assert state is not None and state.spent == Decimal("1") == state.budget
    assert ledger.balance(portal.engine, first).spent == Decimal("0.5")
    assert ledger.balance(portal.engine, second).spent == Decimal("0.5")
    assert [e.details["reason"][:30] for e in events(portal, "dp.query.refused")] == [
        "your privacy budget on dataset",
        "the privacy budget of dataset ",
    ]
    [set_event] = events(portal, "dataset.budget_set")
    assert set_event.details["total"] == "1" and set_event.details["per_person"] == "0.6"


def test_reviewers_see_the_requested_epsilon_and_what_the_dataset_has_left(portal: Portal) -> None:
    catalog.set_privacy_budget(portal, actor="owner", dataset_id="payments", total="5")
    app_id = submitted_application(portal, ["payments"], Level.L3, epsilon="2")
    with portal.sessions() as session:
        app = applications.get_application(portal, session, actor="officer", application_id=app_id)
        view = application_out(session, app).model_dump(mode="json")
    assert view["epsilon_requested"] == "2"
    assert view["epsilon_granted"] == "2"
    assert view["dataset_budgets"] == {
        "payments": {
            "total": "5",
            "spent": "0",
            "remaining": "5",
            "per_person": None,
            "applicant_remaining": None,
        }
    }


def _approve(portal: Portal, app_id: int, reviewer: str = "owner") -> None:
    applications.review(portal, actor=reviewer, application_id=app_id, decision=Decision.APPROVE)


def _refused_without_trace(portal: Portal, app_id: int, reviewer: str, *words: str) -> None:
    """The approval is refused with a 409 in both languages; nothing decided, nothing logged."""
    before = portal.audit.size
    with pytest.raises(InvalidTransition) as refused:
        _approve(portal, app_id, reviewer)
    assert refused.value.status_code == 409
    for word in words:
        assert word in str(refused.value)
    assert "ε" in refused.value.message_zh and refused.value.message_zh != str(refused.value)
    assert portal.audit.size == before
    with portal.sessions() as session:
        app = session.get(Application, app_id)
        assert app is not None
        assert app.status == ApplicationStatus.SUBMITTED and app.decisions == []
        assert session.get(Grant, f"g{app_id:04d}") is None


def test_approval_refused_when_the_dataset_has_less_left_than_asked(portal: Portal) -> None:
    catalog.set_privacy_budget(portal, actor="owner", dataset_id="payments", total="1")
    app_id = submitted_application(portal, ["payments"], Level.L3, epsilon="2")
    _refused_without_trace(portal, app_id, "owner", "payments", "ε 1 left")
    _refused_without_trace(portal, app_id, "officer", "payments")
    # the L3 default (ε 1 when none is asked) is measured the same way
    catalog.set_privacy_budget(portal, actor="owner", dataset_id="payments", total="0.5")
    default = submitted_application(portal, ["payments"], Level.L3, epsilon="0")
    _refused_without_trace(portal, default, "owner", "ε 1.0 but")


def test_approval_refused_when_the_applicant_share_has_less_left(portal: Portal) -> None:
    seal_payments(portal)
    catalog.set_privacy_budget(
        portal, actor="owner", dataset_id="payments", total="5", per_person="1"
    )
    first = l3_grant(portal, "1")
    dp.run_dp_query(
        portal, actor="researcher", grant_id=first, query={"kind": "count", "epsilon": "0.75"}
    )
    asked_too_much = submitted_application(portal, ["payments"], Level.L3, epsilon="0.5")
    with portal.sessions() as session:
        app = applications.get_application(
            portal, session, actor="owner", application_id=asked_too_much
        )
        view = application_out(session, app).model_dump(mode="json")
    assert view["dataset_budgets"]["payments"]["applicant_remaining"] == "0.25"
    assert view["dataset_budgets"]["payments"]["remaining"] == "4.25"
    _refused_without_trace(portal, asked_too_much, "owner", "researcher", "ε 0.25")
    # another person's share is untouched; and what is left may be granted
    other = submitted_application(
        portal,
        ["payments"],
        Level.L3,
        epsilon="1",
        actor="operator",
        kind="organisation",
        organisation="杭州某数据公司",
        organisation_uscc="91330106MA2GL2KX1Y",
    )
    _approve(portal, other)
    _approve(portal, other, "officer")
    fits = submitted_application(portal, ["payments"], Level.L3, epsilon="0.25")
    _approve(portal, fits)
    _approve(portal, fits, "officer")
    with portal.sessions() as session:
        assert session.get(Grant, f"g{fits:04d}") is not None


def test_reviewers_see_the_budget_and_an_approval_over_it_is_a_409(portal: Portal) -> None:
    catalog.set_privacy_budget(
        portal, actor="owner", dataset_id="payments", total="3", per_person="1.5"
    )
    app_id = submitted_application(portal, ["payments"], Level.L3, epsilon="2")
    client = TestClient(app_for(portal, ["owner"]), follow_redirects=False)
    page = client.get(f"{PREFIX}/applications/{app_id}", headers=auth_header("owner"))
    assert page.status_code == 200
    shown = page.text.split('id="budget-requested">')[1].split("</td>")[0]
    for part in ("2", "3 / 3", "1.5"):
        assert part in shown
    before = portal.audit.size
    for lang in ("zh", "en"):
        client.cookies.set("pds-lang", lang)
        answer = client.post(
            f"{PREFIX}/api/applications/{app_id}/approve", headers=auth_header("owner")
        )
        assert answer.status_code == 409
        assert ("个人额度" if lang == "zh" else "left of their cap") in answer.json()["error"]
    assert portal.audit.size == before


def test_the_query_and_budget_api_answer_with_their_declared_bodies(portal: Portal) -> None:
    seal_payments(portal)
    grant_id = l3_grant(portal)
    client = TestClient(app_for(portal, ["operator", "owner"]), follow_redirects=False)
    token = workspace_credentials.issue(portal, grant_id=grant_id, user="operator")
    workspace = {"Authorization": f"workspace {token}"}
    answer = client.post(
        f"{PREFIX}/api/workspace/grants/{grant_id}/dp",
        json={"dataset": "payments", "kind": "count", "epsilon": "0.5"},
        headers=workspace,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert list(body) == ["dataset", "result", "answer_hash", "budget"]
    assert body["result"]["kind"] == "count" and body["result"]["epsilon"] == "0.5"
    assert body["budget"] == {"total": "2", "spent": "0.5", "remaining": "1.5"}
    history = client.get(f"{PREFIX}/api/grants/{grant_id}/budget", headers=auth_header("owner"))
    assert history.status_code == 200, history.text
    [charge] = history.json()["charges"]
    assert charge["answer_hash"] == body["answer_hash"] and charge["spent"] == "0.5"
    own = client.get(f"{PREFIX}/api/workspace/grants/{grant_id}/budget", headers=workspace)
    assert own.json() == history.json()
