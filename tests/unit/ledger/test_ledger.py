"""The privacy ledger: exact accounting, refusals that say why and spend nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from open_portal.exceptions import InvalidInput
from open_portal.ledger import (
    AboveQueryCap,
    BudgetExhausted,
    GrantEnded,
    LedgerExists,
    LedgerNotFound,
    PrivacyCharge,
    balance,
    charges,
    close_ledger,
    from_nano,
    open_ledger,
    record_answer,
    reserve,
    to_nano,
)

QUERY = "a" * 64


def _charge_count(engine: Engine) -> int:
    with Session(engine) as session:
        return session.execute(select(func.count()).select_from(PrivacyCharge)).scalar_one()


def test_tenths_add_up_exactly_to_the_budget(engine: Engine) -> None:
    open_ledger(engine, "g1", Decimal("1"))
    for _ in range(10):
        reserve(engine, "g1", Decimal("0.1"), actor="alice", query_hash=QUERY)
    state = balance(engine, "g1")
    assert state.spent == Decimal("1")
    assert state.remaining == 0
    with pytest.raises(BudgetExhausted) as refused:
        reserve(engine, "g1", "0.000000001", actor="alice", query_hash=QUERY)
    assert "ε 0 left of 1" in str(refused.value)
    assert "剩余 ε 0" in refused.value.message_zh
    assert _charge_count(engine) == 10


def test_charge_reports_spent_and_remaining(engine: Engine) -> None:
    open_ledger(engine, "g1", "2.5")
    first = reserve(engine, "g1", "0.75", actor="alice", query_hash=QUERY)
    second = reserve(engine, "g1", "1", actor="bob", query_hash="b" * 64)
    assert (first.epsilon, first.spent_after, first.remaining) == (
        Decimal("0.75"),
        Decimal("0.75"),
        Decimal("1.75"),
    )
    assert (second.spent_after, second.remaining) == (Decimal("1.75"), Decimal("0.75"))
    series = charges(engine, "g1")
    assert [c.actor for c in series] == ["alice", "bob"]
    assert [c.spent_after for c in series] == [Decimal("0.75"), Decimal("1.75")]


def test_refusal_names_what_is_left(engine: Engine) -> None:
    open_ledger(engine, "g1", "1")
    reserve(engine, "g1", "0.7", actor="alice", query_hash=QUERY)
    with pytest.raises(BudgetExhausted) as refused:
        reserve(engine, "g1", "0.5", actor="alice", query_hash=QUERY)
    assert "ε 0.3 left of 1, the query needs ε 0.5" in str(refused.value)
    assert balance(engine, "g1").spent == Decimal("0.7")
    assert _charge_count(engine) == 1


@pytest.mark.parametrize(
    ("epsilon", "message"),
    [
        ("0", "positive"),
        ("-0.5", "positive"),
        ("NaN", "positive"),
        ("0.0000000001", "nine decimal places"),
        ("abc", "not a number"),
        (0.1, "positive decimal"),
    ],
)
def test_invalid_epsilon_is_refused_and_spends_nothing(
    engine: Engine, epsilon: object, message: str
) -> None:
    open_ledger(engine, "g1", "1")
    with pytest.raises(InvalidInput, match=message):
        reserve(engine, "g1", epsilon, actor="alice", query_hash=QUERY)  # type: ignore[arg-type]
    assert balance(engine, "g1").spent == 0
    assert _charge_count(engine) == 0


def test_above_the_per_query_cap_is_refused(engine: Engine) -> None:
    open_ledger(engine, "g1", "10", per_query_cap="0.5")
    reserve(engine, "g1", "0.5", actor="alice", query_hash=QUERY)
    with pytest.raises(AboveQueryCap, match=r"above the per-query cap 0\.5"):
        reserve(engine, "g1", "0.500000001", actor="alice", query_hash=QUERY)
    assert balance(engine, "g1").spent == Decimal("0.5")


def test_after_the_grant_ended_nothing_is_spent(engine: Engine) -> None:
    now = datetime(2026, 6, 1, tzinfo=UTC)
    open_ledger(engine, "g1", "10", ends_at=now)
    reserve(engine, "g1", "1", actor="alice", query_hash=QUERY, now=now - timedelta(seconds=1))
    with pytest.raises(GrantEnded, match="ended at 2026-06-01 00:00 UTC"):
        reserve(engine, "g1", "1", actor="alice", query_hash=QUERY, now=now)
    open_ledger(engine, "g2", "10")
    close_ledger(engine, "g2", now=now)
    with pytest.raises(GrantEnded) as refused:
        reserve(engine, "g2", "1", actor="alice", query_hash=QUERY, now=now)
    assert "未消耗预算" in refused.value.message_zh
    assert balance(engine, "g1").spent == 1
    assert balance(engine, "g2").spent == 0
    assert _charge_count(engine) == 1


def test_unknown_grant_and_double_open(engine: Engine) -> None:
    with pytest.raises(LedgerNotFound):
        reserve(engine, "nope", "1", actor="alice", query_hash=QUERY)
    open_ledger(engine, "g1", "1")
    with pytest.raises(LedgerExists):
        open_ledger(engine, "g1", "5")


def test_an_answer_is_recorded_once(engine: Engine) -> None:
    open_ledger(engine, "g1", "1")
    charge = reserve(engine, "g1", "0.5", actor="alice", query_hash=QUERY)
    record_answer(engine, charge.id, "c" * 64)
    with pytest.raises(InvalidInput, match="already answered"):
        record_answer(engine, charge.id, "d" * 64)
    assert charges(engine, "g1")[0].answer_hash == "c" * 64


def test_reserve_inside_the_callers_transaction(engine: Engine) -> None:
    open_ledger(engine, "g1", "1")
    with Session(engine) as session:
        reserve(session, "g1", "0.4", actor="alice", query_hash=QUERY)
        session.rollback()  # the caller's transaction failed: nothing was committed
    assert balance(engine, "g1").spent == 0
    with Session(engine) as session, session.begin():
        reserve(session, "g1", "0.4", actor="alice", query_hash=QUERY)
    assert balance(engine, "g1").spent == Decimal("0.4")


def test_nano_round_trip() -> None:
    assert to_nano("1") == 10**9
    assert to_nano(Decimal("0.000000001")) == 1
    assert from_nano(to_nano("123.456789012")) == Decimal("123.456789012")
    assert from_nano(0) == 0
