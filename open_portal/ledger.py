"""The privacy ledger of each grant: ε reserved atomically before a query runs, never refunded.

ε is stored as integers of nano-ε (10⁻⁹), so sums are exact on every database. A reservation is one
conditional ``UPDATE ... SET spent = spent + e WHERE ... AND spent + e <= budget`` followed by the
insert of the charge row, in one transaction: the database's row lock (PostgreSQL) or write lock
(SQLite) serialises concurrent reservations, and the condition is evaluated on the committed value,
so no burst of concurrent queries can spend more than the budget. A ``CHECK`` constraint says the
same thing again. Nothing is refunded: a reservation is made before the data is touched and stays
spent whatever happens next.

A dataset can also have a total budget that every grant on it draws from (``DatasetBudget``), and
a cap per person across all their grants on it (``PersonSpend``): the reservation then takes the
same conditional ``UPDATE`` on the dataset's row (and the person's) in the same transaction, in
the order grant → dataset → person, so the whole charge is taken from every budget or from none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import BigInteger, CheckConstraint, Engine, Integer, String, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from open_portal.exceptions import Error, Forbidden, InvalidInput, NotFound
from open_portal.models.base import Base, utcnow

NANO = 10**9


class LedgerRefusal(Forbidden):
    """A reservation the ledger refused; nothing was spent."""


class BudgetExhausted(LedgerRefusal):
    """The grant's remaining budget is smaller than the ε asked for."""


class GrantEnded(LedgerRefusal):
    """The grant's ledger is closed or past its end: no more queries."""


class AboveQueryCap(LedgerRefusal):
    """The ε asked for is above the grant's per-query cap."""


class DatasetBudgetExhausted(LedgerRefusal):
    """What is left of the dataset's total budget, shared by all its grants, is too small."""


class PersonBudgetExhausted(LedgerRefusal):
    """What is left of the person's budget on the dataset, across their grants, is too small."""


class LedgerNotFound(NotFound):
    """No ledger was opened for this grant."""


class LedgerExists(Error):
    status_code = 409


class PrivacyLedger(Base):
    """The budget of one grant and what has been spent of it, in nano-ε."""

    __tablename__ = "privacy_ledgers"
    __table_args__ = (
        CheckConstraint("spent_nano >= 0 AND spent_nano <= budget_nano", name="within_budget"),
        CheckConstraint("budget_nano > 0", name="positive_budget"),
    )

    grant_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    budget_nano: Mapped[int] = mapped_column(BigInteger)
    spent_nano: Mapped[int] = mapped_column(BigInteger, default=0)
    per_query_cap_nano: Mapped[int | None] = mapped_column(BigInteger, default=None)
    ends_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PrivacyCharge(Base):
    """One reservation of ε for one query; ``answer_hash`` is set once the answer was returned."""

    __tablename__ = "privacy_charges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    grant_id: Mapped[str] = mapped_column(String(32), index=True)
    nano_epsilon: Mapped[int] = mapped_column(BigInteger)
    spent_after_nano: Mapped[int] = mapped_column(BigInteger)
    query_hash: Mapped[str] = mapped_column(String(64))
    answer_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    actor: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(default=None)


class DatasetBudget(Base):
    """The total ε of a dataset, set by its owner, that all grants on it draw from (nano-ε)."""

    __tablename__ = "dataset_budgets"
    __table_args__ = (
        CheckConstraint("spent_nano >= 0 AND spent_nano <= budget_nano", name="within_budget"),
        CheckConstraint("budget_nano > 0", name="positive_budget"),
        CheckConstraint(
            "per_person_nano IS NULL OR per_person_nano > 0", name="positive_per_person"
        ),
    )

    dataset_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    budget_nano: Mapped[int] = mapped_column(BigInteger)
    spent_nano: Mapped[int] = mapped_column(BigInteger, default=0)
    per_person_nano: Mapped[int | None] = mapped_column(BigInteger, default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PersonSpend(Base):
    """What one person has spent on one dataset, across all their grants (nano-ε)."""

    __tablename__ = "dataset_person_spends"
    __table_args__ = (CheckConstraint("spent_nano >= 0", name="not_negative"),)

    dataset_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    person: Mapped[str] = mapped_column(String(64), primary_key=True)
    spent_nano: Mapped[int] = mapped_column(BigInteger, default=0)


def to_nano(epsilon: Decimal | str | int) -> int:
    """Exact nano-ε of a positive ε with at most nine decimal places; ``InvalidInput`` otherwise."""
    try:
        value = Decimal(epsilon)
    except (InvalidOperation, TypeError, ValueError):
        raise InvalidInput(
            f"ε is not a number: {epsilon!r}", zh=f"ε 不是数字：{epsilon!r}"
        ) from None
    if isinstance(epsilon, float) or not value.is_finite() or value <= 0:
        raise InvalidInput(
            f"ε must be a positive decimal, got {epsilon!r}",
            zh=f"ε 必须是正的十进制数：{epsilon!r}",
        )
    nano = value * NANO
    if nano != nano.to_integral_value():
        raise InvalidInput(
            f"ε has more than nine decimal places: {value}", zh=f"ε 最多 9 位小数：{value}"
        )
    return int(nano)


def from_nano(nano: int) -> Decimal:
    """The exact decimal ε of a number of nano-ε."""
    return (Decimal(nano) / NANO).normalize() if nano else Decimal(0)


@dataclass(frozen=True)
class Balance:
    grant_id: str
    budget: Decimal
    spent: Decimal
    per_query_cap: Decimal | None
    ends_at: datetime | None
    closed_at: datetime | None

    @property
    def remaining(self) -> Decimal:
        return self.budget - self.spent


@dataclass(frozen=True)
class Charge:
    """A reservation as recorded: ε charged and the grant's total spent right after it."""

    id: int
    grant_id: str
    epsilon: Decimal
    spent_after: Decimal
    budget: Decimal
    query_hash: str
    answer_hash: str | None
    actor: str
    created_at: datetime

    @property
    def remaining(self) -> Decimal:
        return self.budget - self.spent_after


def _in_session(bind: Engine | Session) -> tuple[Session, bool]:
    if isinstance(bind, Session):
        return bind, False
    return Session(bind, expire_on_commit=False), True


def open_ledger(
    bind: Engine | Session,
    grant_id: str,
    budget: Decimal | str,
    *,
    per_query_cap: Decimal | str | None = None,
    ends_at: datetime | None = None,
) -> Balance:
    """Open the ledger of a grant with its total budget (and optional per-query cap and end)."""
    row = PrivacyLedger(
        grant_id=grant_id,
        budget_nano=to_nano(budget),
        spent_nano=0,
        per_query_cap_nano=None if per_query_cap is None else to_nano(per_query_cap),
        ends_at=ends_at,
    )
    session, own = _in_session(bind)
    try:
        if session.get(PrivacyLedger, grant_id) is not None:
            raise LedgerExists(
                f"grant {grant_id} already has a privacy ledger", zh=f"授权 {grant_id} 已有隐私账本"
            )
        session.add(row)
        session.flush()
        if own:
            session.commit()
        return _balance(row)
    finally:
        if own:
            session.close()


def _balance(row: PrivacyLedger) -> Balance:
    cap = row.per_query_cap_nano
    return Balance(
        grant_id=row.grant_id,
        budget=from_nano(row.budget_nano),
        spent=from_nano(row.spent_nano),
        per_query_cap=None if cap is None else from_nano(cap),
        ends_at=row.ends_at,
        closed_at=row.closed_at,
    )


def balance(bind: Engine | Session, grant_id: str) -> Balance:
    """The grant's budget and what is spent of it, as committed."""
    session, own = _in_session(bind)
    try:
        row = session.execute(
            select(PrivacyLedger).where(PrivacyLedger.grant_id == grant_id)
        ).scalar_one_or_none()
        if row is None:
            raise LedgerNotFound(
                f"grant {grant_id} has no privacy ledger", zh=f"授权 {grant_id} 没有隐私账本"
            )
        return _balance(row)
    finally:
        if own:
            session.close()


def reserve(
    bind: Engine | Session,
    grant_id: str,
    epsilon: Decimal | str,
    *,
    actor: str,
    query_hash: str,
    now: datetime | None = None,
    dataset_id: str | None = None,
) -> Charge:
    """Reserve ``epsilon`` of the grant's budget for one query, atomically, or refuse.

    Given an ``Engine``, the reservation is committed before returning. Given a ``Session``, it is
    flushed in the caller's transaction and the caller commits (before it runs the query).
    Refusals (``BudgetExhausted``, ``GrantEnded``, ``AboveQueryCap``, ``LedgerNotFound``,
    ``InvalidInput``) spend nothing and say why in Chinese and English. With ``dataset_id``, the
    charge is also taken from the dataset's total budget and from the actor's budget on it, if
    the owner set them (``DatasetBudgetExhausted``, ``PersonBudgetExhausted``).
    """
    nano = to_nano(epsilon)
    now = now or utcnow()
    session, own = _in_session(bind)
    try:
        ledger = PrivacyLedger
        spent = session.execute(
            update(ledger)
            .where(
                ledger.grant_id == grant_id,
                ledger.closed_at.is_(None),
                or_(ledger.ends_at.is_(None), ledger.ends_at > now),
                or_(ledger.per_query_cap_nano.is_(None), ledger.per_query_cap_nano >= nano),
                ledger.spent_nano + nano <= ledger.budget_nano,
            )
            .values(spent_nano=ledger.spent_nano + nano)
            .returning(ledger.spent_nano, ledger.budget_nano)
            .execution_options(synchronize_session=False)
        ).first()
        if spent is None:
            if own:
                session.rollback()
            raise _refusal(session, grant_id, nano, now)
        if dataset_id is not None:
            refusal = _draw_from_dataset(session, dataset_id, actor, nano)
            if refusal is not None:
                if own:
                    session.rollback()
                raise refusal
        charge = PrivacyCharge(
            grant_id=grant_id,
            nano_epsilon=nano,
            spent_after_nano=spent[0],
            query_hash=query_hash,
            actor=actor,
            created_at=now,
        )
        session.add(charge)
        session.flush()
        if own:
            session.commit()
        return _charge(charge, spent[1])
    except BaseException:
        if own:
            session.rollback()
        raise
    finally:
        if own:
            session.close()


def _draw_from_dataset(session: Session, dataset_id: str, person: str, nano: int) -> Error | None:
    """Take ``nano`` from the dataset's total and the person's share, or say why not."""
    table = DatasetBudget
    drawn = session.execute(
        update(table)
        .where(table.dataset_id == dataset_id, table.spent_nano + nano <= table.budget_nano)
        .values(spent_nano=table.spent_nano + nano)
        .returning(table.per_person_nano)
        .execution_options(synchronize_session=False)
    ).first()
    if drawn is None:
        state = dataset_balance(session, dataset_id)
        if state is None:
            return None  # the owner set no total for this dataset
        asked = from_nano(nano)
        return DatasetBudgetExhausted(
            f"the privacy budget of dataset {dataset_id} is exhausted: ε {state.remaining} is "
            f"left of {state.budget} for all its grants, the query needs ε {asked}; "
            "nothing was spent",
            zh=f"数据集 {dataset_id} 的总隐私预算不足：所有授权共剩余 ε {state.remaining}"
            f"（共 {state.budget}），本次查询需要 ε {asked}；未消耗预算",
        )
    cap = drawn[0]
    if cap is None:
        return None
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgres_insert
    session.execute(
        insert(PersonSpend)
        .values(dataset_id=dataset_id, person=person, spent_nano=0)
        .on_conflict_do_nothing()
    )
    person_row = PersonSpend
    taken = session.execute(
        update(person_row)
        .where(
            person_row.dataset_id == dataset_id,
            person_row.person == person,
            person_row.spent_nano + nano <= cap,
        )
        .values(spent_nano=person_row.spent_nano + nano)
        .returning(person_row.spent_nano)
        .execution_options(synchronize_session=False)
    ).first()
    if taken is not None:
        return None
    left = (
        cap
        - (session.get(PersonSpend, (dataset_id, person)) or PersonSpend(spent_nano=0)).spent_nano
    )
    return PersonBudgetExhausted(
        f"your privacy budget on dataset {dataset_id} is exhausted: ε {from_nano(left)} is left "
        f"of {from_nano(cap)} across your grants, the query needs ε {from_nano(nano)}; "
        "nothing was spent",
        zh=f"您在数据集 {dataset_id} 上的隐私预算不足：各授权合计剩余 ε {from_nano(left)}"
        f"（共 {from_nano(cap)}），本次查询需要 ε {from_nano(nano)}；未消耗预算",
    )


@dataclass(frozen=True)
class DatasetBalance:
    dataset_id: str
    budget: Decimal
    spent: Decimal
    per_person: Decimal | None

    @property
    def remaining(self) -> Decimal:
        return self.budget - self.spent


def dataset_balance(bind: Engine | Session, dataset_id: str) -> DatasetBalance | None:
    """The dataset's total budget and what all its grants spent of it; ``None`` if not set."""
    session, own = _in_session(bind)
    try:
        row = session.execute(
            select(DatasetBudget).where(DatasetBudget.dataset_id == dataset_id)
        ).scalar_one_or_none()
        if row is None:
            return None
        cap = row.per_person_nano
        return DatasetBalance(
            dataset_id=dataset_id,
            budget=from_nano(row.budget_nano),
            spent=from_nano(row.spent_nano),
            per_person=None if cap is None else from_nano(cap),
        )
    finally:
        if own:
            session.close()


def person_left(bind: Engine | Session, dataset_id: str, person: str) -> Decimal | None:
    """What ``person`` may still spend on the dataset across their grants (``None``: no cap)."""
    state = dataset_balance(bind, dataset_id)
    if state is None or state.per_person is None:
        return None
    session, own = _in_session(bind)
    try:
        row = session.get(PersonSpend, (dataset_id, person))
        return state.per_person - from_nano(row.spent_nano if row else 0)
    finally:
        if own:
            session.close()


def set_dataset_budget(
    bind: Engine | Session,
    dataset_id: str,
    budget: Decimal | str,
    *,
    per_person: Decimal | str | None = None,
    now: datetime | None = None,
) -> DatasetBalance:
    """Set (or change) the dataset's total ε and per-person cap; never below what is spent."""
    budget_nano = to_nano(budget)
    person_nano = None if per_person in (None, "") else to_nano(per_person)
    session, own = _in_session(bind)
    try:
        row = session.get(DatasetBudget, dataset_id, with_for_update=True)
        if row is None:
            row = DatasetBudget(dataset_id=dataset_id, spent_nano=0)
            session.add(row)
        if budget_nano < (row.spent_nano or 0):
            raise InvalidInput(
                f"ε {from_nano(row.spent_nano)} of dataset {dataset_id} is spent already: "
                "the total cannot be lower",
                zh=f"数据集 {dataset_id} 已消耗 ε {from_nano(row.spent_nano)}，总预算不能低于此数",
            )
        row.budget_nano = budget_nano
        row.per_person_nano = person_nano
        row.updated_at = now or utcnow()
        session.flush()
        if own:
            session.commit()
        state = dataset_balance(session, dataset_id)
        assert state is not None
        return state
    except BaseException:
        if own:
            session.rollback()
        raise
    finally:
        if own:
            session.close()


def _refusal(session: Session, grant_id: str, nano: int, now: datetime) -> Error:
    row = session.execute(
        select(PrivacyLedger).where(PrivacyLedger.grant_id == grant_id)
    ).scalar_one_or_none()
    asked = from_nano(nano)
    if row is None:
        return LedgerNotFound(
            f"grant {grant_id} has no privacy ledger; nothing was spent",
            zh=f"授权 {grant_id} 没有隐私账本；未消耗预算",
        )
    state = _balance(row)
    if row.closed_at is not None or (row.ends_at is not None and row.ends_at <= now):
        ended = row.closed_at or row.ends_at
        return GrantEnded(
            f"grant {grant_id} ended at {ended:%Y-%m-%d %H:%M} UTC: no more DP queries; "
            "nothing was spent",
            zh=f"授权 {grant_id} 已于 {ended:%Y-%m-%d %H:%M} UTC 结束，不能再查询；未消耗预算",
        )
    if state.per_query_cap is not None and asked > state.per_query_cap:
        return AboveQueryCap(
            f"ε {asked} is above the per-query cap {state.per_query_cap} of grant {grant_id}; "
            "nothing was spent",
            zh=f"ε {asked} 超过授权 {grant_id} 的单次查询上限 {state.per_query_cap}；未消耗预算",
        )
    return BudgetExhausted(
        f"privacy budget exhausted: grant {grant_id} has ε {state.remaining} left of "
        f"{state.budget}, the query needs ε {asked}; nothing was spent",
        zh=f"隐私预算不足：授权 {grant_id} 剩余 ε {state.remaining}（共 {state.budget}），"
        f"本次查询需要 ε {asked}；未消耗预算",
    )


def _charge(row: PrivacyCharge, budget_nano: int) -> Charge:
    return Charge(
        id=row.id,
        grant_id=row.grant_id,
        epsilon=from_nano(row.nano_epsilon),
        spent_after=from_nano(row.spent_after_nano),
        budget=from_nano(budget_nano),
        query_hash=row.query_hash,
        answer_hash=row.answer_hash,
        actor=row.actor,
        created_at=row.created_at,
    )


def record_answer(
    bind: Engine | Session, charge_id: int, answer_hash: str, *, now: datetime | None = None
) -> None:
    """Write the hash of the answer a charge paid for; a charge is answered at most once."""
    session, own = _in_session(bind)
    try:
        done = session.execute(
            update(PrivacyCharge)
            .where(PrivacyCharge.id == charge_id, PrivacyCharge.answer_hash.is_(None))
            .values(answer_hash=answer_hash, answered_at=now or utcnow())
            .execution_options(synchronize_session=False)
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise InvalidInput(
                f"charge {charge_id} does not exist or was already answered",
                zh=f"扣费记录 {charge_id} 不存在或已有答案",
            )
        if own:
            session.commit()
    finally:
        if own:
            session.close()


def close_ledger(bind: Engine | Session, grant_id: str, *, now: datetime | None = None) -> None:
    """Close the ledger when the grant ends: every later reservation is refused."""
    session, own = _in_session(bind)
    try:
        session.execute(
            update(PrivacyLedger)
            .where(PrivacyLedger.grant_id == grant_id, PrivacyLedger.closed_at.is_(None))
            .values(closed_at=now or utcnow())
            .execution_options(synchronize_session=False)
        )
        if own:
            session.commit()
    finally:
        if own:
            session.close()


def charges(bind: Engine | Session, grant_id: str) -> list[Charge]:
    """Every charge of a grant in the order it was made: the budget-over-time series."""
    session, own = _in_session(bind)
    try:
        state = balance(session, grant_id)
        rows = session.execute(
            select(PrivacyCharge)
            .where(PrivacyCharge.grant_id == grant_id)
            .order_by(PrivacyCharge.spent_after_nano, PrivacyCharge.id)
        ).scalars()
        budget_nano = to_nano(state.budget)
        return [_charge(row, budget_nano) for row in rows]
    finally:
        if own:
            session.close()
