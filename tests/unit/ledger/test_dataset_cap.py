"""A dataset's total ε (and each person's share of it) holds against 50 concurrent queries from
50 different grants, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
import threading
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from open_portal.exceptions import InvalidInput
from open_portal.ledger import (
    Charge,
    DatasetBudgetExhausted,
    PersonBudgetExhausted,
    PersonSpend,
    PrivacyLedger,
    balance,
    dataset_balance,
    open_ledger,
    reserve,
    set_dataset_budget,
)

RACERS = 50


def _race(
    engine: Engine, epsilons: list[Decimal], actor: str | None = None
) -> tuple[list[Charge], list[Exception]]:
    """One query from each of ``len(epsilons)`` grants at once, all on dataset ``ds``."""
    for n in range(len(epsilons)):
        open_ledger(engine, f"g{n}", "10")
    barrier = threading.Barrier(len(epsilons))
    granted: list[Charge] = []
    refused: list[Exception] = []
    lock = threading.Lock()

    def query(epsilon: Decimal, n: int) -> None:
        barrier.wait()
        try:
            charge = reserve(
                engine,
                f"g{n}",
                epsilon,
                actor=actor or f"user{n}",
                query_hash=f"{n:064x}",
                dataset_id="ds",
            )
        except Exception as exc:  # collected and checked below
            with lock:
                refused.append(exc)
        else:
            with lock:
                granted.append(charge)

    threads = [threading.Thread(target=query, args=(e, n)) for n, e in enumerate(epsilons)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return granted, refused


def _grants_spent(engine: Engine) -> int:
    with Session(engine) as session:
        return session.execute(select(func.sum(PrivacyLedger.spent_nano))).scalar_one()


def test_fifty_grants_never_exceed_the_dataset_cap(engine: Engine) -> None:
    set_dataset_budget(engine, "ds", "1")
    granted, refused = _race(engine, [Decimal("0.03")] * RACERS)
    assert len(granted) == 33 and len(refused) == RACERS - 33
    assert all(isinstance(exc, DatasetBudgetExhausted) for exc in refused), refused
    state = dataset_balance(engine, "ds")
    assert state is not None and state.spent == Decimal("0.99") <= state.budget
    # a refused query spent nothing anywhere: the grants' ledgers add up to the dataset's
    assert _grants_spent(engine) == int(state.spent * 10**9)
    assert "所有授权共剩余" in refused[0].message_zh  # type: ignore[attr-defined]
    assert "left of 1 for all its grants" in str(refused[0])


def test_unequal_queries_from_many_grants(engine: Engine) -> None:
    set_dataset_budget(engine, "ds", "0.5")
    picks = random.Random(11)
    epsilons = [Decimal(picks.randint(1, 50_000_000)) / 10**9 for _ in range(RACERS)]
    granted, refused = _race(engine, epsilons)
    assert granted and refused
    state = dataset_balance(engine, "ds")
    assert state is not None and state.spent <= state.budget
    assert state.spent == sum((c.epsilon for c in granted), Decimal(0))
    assert _grants_spent(engine) == int(state.spent * 10**9)


def test_one_person_across_grants_never_exceeds_their_share(engine: Engine) -> None:
    set_dataset_budget(engine, "ds", "5", per_person="0.1")
    granted, refused = _race(engine, [Decimal("0.01")] * RACERS, actor="ana")
    assert len(granted) == 10
    assert all(isinstance(exc, PersonBudgetExhausted) for exc in refused), refused
    with Session(engine) as session:
        spend = session.get(PersonSpend, ("ds", "ana"))
        assert spend is not None and spend.spent_nano == 10**8
    state = dataset_balance(engine, "ds")
    assert state is not None and state.spent == Decimal("0.1")
    assert _grants_spent(engine) == 10**8
    # another person still has their own share
    reserve(engine, "g0", "0.1", actor="bo", query_hash="1" * 64, dataset_id="ds")


def test_without_a_dataset_budget_only_the_grant_counts(engine: Engine) -> None:
    open_ledger(engine, "g1", "1")
    reserve(engine, "g1", "0.5", actor="ana", query_hash="0" * 64, dataset_id="ds")
    assert balance(engine, "g1").spent == Decimal("0.5")
    assert dataset_balance(engine, "ds") is None


def test_the_total_cannot_go_below_what_is_spent(engine: Engine) -> None:
    set_dataset_budget(engine, "ds", "1")
    open_ledger(engine, "g1", "1")
    reserve(engine, "g1", "0.4", actor="ana", query_hash="0" * 64, dataset_id="ds")
    with pytest.raises(InvalidInput):
        set_dataset_budget(engine, "ds", "0.3")
    state = set_dataset_budget(engine, "ds", "0.4")
    assert state.remaining == 0
