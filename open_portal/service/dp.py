"""DP queries on L3 (and L2) grants: checked, charged to the grant's ledger, answered, recorded.

Order of a query, each step refusing with nothing spent until the reservation:
1. the grant is visible to the caller (else 404), usable (active, within its term) and the caller
   may use it (policy ``use`` on the grant);
2. the dataset is one of the grant's, with DP metadata declared by its owner;
3. the query is valid for that metadata (declared columns, bounds, ε > 0 and within the cap);
4. ε is reserved on the grant's ledger, atomically (``open_portal.ledger.reserve``), and in the
   same transaction on the dataset's total and the caller's share of it, where the owner set them;
5. the query runs on the raw data of the grant's version, read from the vault;
6. the answer is rounded to what its noise allows (``desensitize.dp.accuracy.rounded``), its
   hash is written on the charge and the ``dp.query`` event (ε, query and answer hashes, budget
   spent and remaining) is appended to the audit log before the answer is returned.
Nothing is refunded after step 4: if step 5 fails the ε stays spent (``dp.query.failed``).

``preview_accuracy`` answers "which ε gives ±X at 95%" (or "what does ε give") from the declared
metadata alone: it reads no data, spends nothing and records nothing.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from sqlalchemy.orm import Session

from desensitize.dp import DPFrame, DPQuery, DPSchema, accuracy, run_query
from open_portal import ledger, permissions
from open_portal.exceptions import InvalidInput, NotFound
from open_portal.models import Dataset, DatasetVersion, Grant, GrantStatus, Level
from open_portal.service.auditing import record
from open_portal.service.catalog import raw_frame
from open_portal.service.context import Portal
from open_portal.service.grants import get_grant

#: Prepared (clipped, contribution-limited) frames kept in memory, newest used last.
CACHED_FRAMES = 4

_frames: OrderedDict[tuple[int, str, str], DPFrame] = OrderedDict()
_frames_lock = threading.Lock()


def run_dp_query(
    portal: Portal,
    *,
    actor: str,
    grant_id: str,
    query: DPQuery | dict[str, Any],
    dataset_id: str | None = None,
) -> dict[str, Any]:
    """Answer one DP query of a grant member; returns the result and the budget left."""
    parsed = query if isinstance(query, DPQuery) else DPQuery.parse(query)
    with portal.sessions() as session:
        grant = get_grant(portal, session, actor=actor, grant_id=grant_id)
        _check_usable(portal, grant)
        permissions.check_can_use_grant(portal.policy, session, actor, grant, portal.clock())
        dataset, version = _dataset_of(session, grant, dataset_id)
        schema = _schema_of(dataset)
        parsed.validate_for(schema)
    try:
        charge = ledger.reserve(
            portal.engine,
            grant_id,
            parsed.epsilon,
            actor=actor,
            query_hash=parsed.fingerprint(),
            now=portal.clock(),
            dataset_id=dataset.id,
        )
    except ledger.LedgerRefusal as refusal:
        record(
            portal,
            "dp.query.refused",
            actor=actor,
            subject=f"grant:{grant_id}",
            object=f"dataset:{dataset.id}",
            epsilon=str(parsed.epsilon),
            query_hash=parsed.fingerprint(),
            reason=str(refusal),
        )
        raise
    try:
        result = accuracy.rounded(
            run_query(_frame(portal, version, schema), schema, parsed), schema
        )
    except Exception as exc:
        record(
            portal,
            "dp.query.failed",
            actor=actor,
            subject=f"grant:{grant_id}",
            object=f"dataset:{dataset.id}",
            epsilon=str(parsed.epsilon),
            charge=charge.id,
            query_hash=charge.query_hash,
            error=type(exc).__name__,
            spent=str(charge.spent_after),
            remaining=str(charge.remaining),
        )
        raise
    answer_hash = result.answer_hash()
    ledger.record_answer(portal.engine, charge.id, answer_hash, now=portal.clock())
    record(
        portal,
        "dp.query",
        actor=actor,
        subject=f"grant:{grant_id}",
        object=f"dataset:{dataset.id}",
        version=version.number,
        epsilon=str(parsed.epsilon),
        kind=parsed.kind.value,
        query=parsed.model_dump(mode="json"),
        query_hash=charge.query_hash,
        answer_hash=answer_hash,
        mechanism=result.mechanism,
        charge=charge.id,
        spent=str(charge.spent_after),
        remaining=str(charge.remaining),
        budget=str(charge.budget),
    )
    return {
        "dataset": dataset.id,
        "result": result.model_dump(mode="json"),
        "answer_hash": answer_hash,
        "budget": _budget_view(charge.budget, charge.spent_after),
    }


def preview_accuracy(
    portal: Portal,
    *,
    actor: str,
    grant_id: str,
    dataset_id: str | None,
    query: dict[str, Any],
    ci95: float | None = None,
    rows: int | None = None,
) -> dict[str, Any]:
    """The 95% accuracy of ``query`` at its ε, or the least ε giving ±``ci95``: from the dataset's
    declared metadata only (no data is read, nothing is spent, nothing is recorded)."""
    with portal.sessions() as session:
        grant = get_grant(portal, session, actor=actor, grant_id=grant_id)
        permissions.check_can_use_grant(portal.policy, session, actor, grant, portal.clock())
        dataset, _ = _dataset_of(session, grant, dataset_id)
        schema = _schema_of(dataset)
    answer = accuracy.preview(schema, query, ci95=ci95, rows=rows)
    try:
        remaining: str | None = str(ledger.balance(portal.engine, grant_id).remaining)
    except ledger.LedgerNotFound:
        remaining = None
    return {"dataset": dataset.id, **answer.model_dump(mode="json"), "remaining": remaining}


def budget_history(portal: Portal, *, actor: str, grant_id: str) -> dict[str, Any]:
    """The grant's budget and every charge in order: the series of the budget chart."""
    with portal.sessions() as session:
        get_grant(portal, session, actor=actor, grant_id=grant_id)
    try:
        state = ledger.balance(portal.engine, grant_id)
    except ledger.LedgerNotFound:
        return {"grant": grant_id, "budget": None, "charges": []}
    return {
        "grant": grant_id,
        "budget": _budget_view(state.budget, state.spent),
        "per_query_cap": None if state.per_query_cap is None else str(state.per_query_cap),
        "charges": [
            {
                "time": c.created_at.isoformat(),
                "epsilon": str(c.epsilon),
                "spent": str(c.spent_after),
                "remaining": str(c.remaining),
                "actor": c.actor,
                "query_hash": c.query_hash,
                "answer_hash": c.answer_hash,
            }
            for c in ledger.charges(portal.engine, grant_id)
        ],
    }


def _budget_view(total: Any, spent: Any) -> dict[str, str]:
    return {"total": str(total), "spent": str(spent), "remaining": str(total - spent)}


def _check_usable(portal: Portal, grant: Grant) -> None:
    now = portal.clock()
    if grant.status != GrantStatus.ACTIVE or now >= grant.ends_at:
        state = grant.status.value if grant.status != GrantStatus.ACTIVE else "ended"
        raise ledger.GrantEnded(
            f"grant {grant.id} is {state} (term ended {grant.ends_at:%Y-%m-%d}): "
            "no more DP queries; nothing was spent",
            zh=f"授权 {grant.id} 已{_ZH_STATE.get(state, state)}（期限至 {grant.ends_at:%Y-%m-%d}），"
            "不能再查询；未消耗预算",
        )
    if now < grant.starts_at:
        raise ledger.GrantEnded(
            f"grant {grant.id} starts at {grant.starts_at:%Y-%m-%d}; nothing was spent",
            zh=f"授权 {grant.id} 自 {grant.starts_at:%Y-%m-%d} 起生效；未消耗预算",
        )


_ZH_STATE = {"ended": "到期", "expired": "到期", "suspended": "暂停", "revoked": "撤销"}


def _dataset_of(
    session: Session, grant: Grant, dataset_id: str | None
) -> tuple[Dataset, DatasetVersion]:
    items = {d.dataset_id: d for d in grant.datasets}
    if dataset_id is None:
        if len(items) != 1:
            raise InvalidInput(
                f"grant {grant.id} has several datasets: name one of {', '.join(sorted(items))}",
                zh=f"授权 {grant.id} 含多个数据集，请指定：{', '.join(sorted(items))}",
            )
        dataset_id = next(iter(items))
    item = items.get(dataset_id)
    dataset = session.get(Dataset, dataset_id) if item else None
    version = session.get(DatasetVersion, item.version_id) if item else None
    if dataset is None or version is None or item is None:
        raise NotFound(
            f"dataset {dataset_id!r} is not in grant {grant.id}",
            zh=f"数据集 {dataset_id} 不在授权 {grant.id} 内",
        )
    if item.level != Level.L3:
        raise InvalidInput(
            f"dataset {dataset_id} is granted at {item.level.value}: read its desensitized "
            "records with client.load(); DP queries are for the datasets granted at L3",
            zh=f"数据集 {dataset_id} 按 {item.level.value} 级授权：请用 client.load() 读取其脱敏数据；"
            "差分隐私查询仅适用于按 L3 级授权的数据集",
        )
    return dataset, version


def _schema_of(dataset: Dataset) -> DPSchema:
    if not dataset.dp_schema:
        raise InvalidInput(
            f"the owner of {dataset.id} declared no DP metadata (bounds and domains): "
            "it cannot be queried with differential privacy",
            zh=f"数据集 {dataset.id} 的所有者未声明差分隐私元数据（上下界与取值域），不能查询",
        )
    return DPSchema.from_dict(dataset.dp_schema)


def _frame(portal: Portal, version: DatasetVersion, schema: DPSchema) -> DPFrame:
    key = (version.id, version.raw_sha256, schema.model_dump_json())
    with _frames_lock:
        cached = _frames.get(key)
        if cached is not None:
            _frames.move_to_end(key)
            return cached
    frame = DPFrame(raw_frame(portal, version), schema)
    with _frames_lock:
        _frames[key] = frame
        while len(_frames) > CACHED_FRAMES:
            _frames.popitem(last=False)
    return frame
