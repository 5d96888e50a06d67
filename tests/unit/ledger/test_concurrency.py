"""50 concurrent queries racing for the last bits of a budget never overspend it."""

from __future__ import annotations

import random
import threading
from decimal import Decimal

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from open_portal.exceptions import Error
from open_portal.ledger import (
    BudgetExhausted,
    Charge,
    PrivacyCharge,
    balance,
    open_ledger,
    reserve,
)

RACERS = 50


def _race(engine: Engine, epsilons: list[Decimal]) -> tuple[list[Charge], list[Exception]]:
    barrier = threading.Barrier(len(epsilons))
    granted: list[Charge] = []
    refused: list[Exception] = []
    lock = threading.Lock()

    def query(epsilon: Decimal, n: int) -> None:
        barrier.wait()
        try:
            charge = reserve(engine, "g1", epsilon, actor=f"user{n}", query_hash=f"{n:064x}")
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


def _charged_total(engine: Engine) -> int:
    with Session(engine) as session:
        return session.execute(
            select(func.coalesce(func.sum(PrivacyCharge.nano_epsilon), 0))
        ).scalar_one()


def _check(
    engine: Engine,
    budget: Decimal,
    granted: list[Charge],
    refused: list[Exception],
    before: Decimal = Decimal(0),
) -> None:
    spent = balance(engine, "g1").spent
    assert spent <= budget
    assert spent == before + sum((c.epsilon for c in granted), Decimal(0))
    assert _charged_total(engine) == int(spent * 10**9)
    # every refusal is a budget refusal that says how much is left, in both languages
    assert all(isinstance(exc, BudgetExhausted) for exc in refused), refused
    for exc in refused:
        assert isinstance(exc, Error)
        assert "privacy budget exhausted" in str(exc) and "left of" in str(exc)
        assert "隐私预算不足" in exc.message_zh
    # the running totals the charges saw are all different: the reservations were serialised
    assert len({c.spent_after for c in granted}) == len(granted)


def test_equal_queries_race_for_the_last_bits(engine: Engine) -> None:
    budget = Decimal("1")
    open_ledger(engine, "g1", budget)
    reserve(engine, "g1", "0.1", actor="warmup", query_hash="0" * 64)
    granted, refused = _race(engine, [Decimal("0.03")] * RACERS)
    assert len(granted) == 30  # 0.1 + 30 × 0.03 = 1.0 exactly
    assert len(refused) == RACERS - 30
    _check(engine, budget, granted, refused, before=Decimal("0.1"))
    assert balance(engine, "g1").remaining == 0


def test_unequal_queries_race_for_the_last_bits(engine: Engine) -> None:
    budget = Decimal("0.5")
    open_ledger(engine, "g1", budget)
    picks = random.Random(7)
    epsilons = [Decimal(picks.randint(1, 50_000_000)) / 10**9 for _ in range(RACERS)]
    granted, refused = _race(engine, epsilons)
    assert granted and refused
    _check(engine, budget, granted, refused)
    remaining = balance(engine, "g1").remaining
    # each refused query asked for more than was left when it ran, hence more than is left now
    assert all(e > remaining for e in epsilons if e not in {c.epsilon for c in granted})
