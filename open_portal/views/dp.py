"""DP answers, accuracy previews and budget histories as the API returns them, and the accuracy
preview page (a form whose answer, or what is wrong, is shown on the form)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from desensitize.dp import DPError, QueryKind
from open_portal import i18n
from open_portal.exceptions import Error, InvalidInput
from open_portal.models import Dataset
from open_portal.service import dp as service
from open_portal.service.context import Portal
from open_portal.service.grants import get_grant
from open_portal.web import language, render


class BudgetOut(BaseModel):
    """A grant's privacy budget (ε as exact decimals)."""

    total: str
    spent: str
    remaining: str


class DPAnswerOut(BaseModel):
    """One DP answer (``desensitize.dp.DPResult`` as JSON) and the budget after it."""

    dataset: str
    result: dict[str, Any]
    answer_hash: str
    budget: BudgetOut


class AccuracyOut(BaseModel):
    """The 95% accuracy a query would have at ``epsilon`` (or the least ε for the asked
    ``ci95``), from declared metadata only; ``remaining`` is unset before the first charge."""

    dataset: str
    kind: str
    epsilon: str
    ci95: float
    ci95_unit: str
    rows: int | None
    max_query_epsilon: str
    reachable: bool
    remaining: str | None


class ChargeOut(BaseModel):
    time: str
    epsilon: str
    spent: str  # after this charge
    remaining: str
    actor: str
    query_hash: str
    answer_hash: str | None  # unset while the query runs or when it failed


class BudgetHistoryOut(BaseModel):
    """A grant's budget and its charges in order; ``budget`` is unset before the ledger is."""

    grant: str
    budget: BudgetOut | None
    per_query_cap: str | None = None
    charges: list[ChargeOut]


KINDS = [k.value for k in QueryKind if k not in (QueryKind.GROUP_COUNT, QueryKind.GROUP_SUM)]


def accuracy_page(
    request: Request, portal: Portal, *, actor: str, grant_id: str, asked: dict[str, str]
) -> HTMLResponse:
    """The preview form for the grant's datasets, with the answer to ``asked`` if a kind is set."""
    with portal.sessions() as session:
        grant = get_grant(portal, session, actor=actor, grant_id=grant_id)
        schemas = {d.dataset_id: _declared(session, d.dataset_id) for d in grant.datasets}
    result, error = None, ""
    if asked["kind"]:
        try:
            result = service.preview_accuracy(
                portal,
                actor=actor,
                grant_id=grant_id,
                dataset_id=asked["dataset"] or None,
                query=_form_query(
                    asked["kind"], asked["column"], asked["epsilon"] if not asked["ci95"] else ""
                ),
                ci95=_number(asked["ci95"], "ci95", float),
                rows=_number(asked["rows"], "rows", int),
            )
        except (Error, DPError) as exc:
            error = i18n.message(exc, language(request))
    return render(
        request,
        "accuracy.html",
        grant_id=grant_id,
        schemas=schemas,
        kinds=KINDS,
        asked=asked,
        result=result,
        error=error,
    )


def _declared(session: Session, dataset_id: str) -> dict[str, Any]:
    dataset = session.get(Dataset, dataset_id)
    return dict(dataset.dp_schema or {}) if dataset is not None else {}


def _form_query(kind: str, column: str, epsilon: str) -> dict[str, Any]:
    query: dict[str, Any] = {"kind": kind}
    if column:
        query["column"] = column
    if epsilon:
        query["epsilon"] = epsilon
    if kind == "quantile":
        query["q"] = 0.5
    return query


def _number(text: str, name: str, kind: type[float] | type[int]) -> Any:
    if not text.strip():
        return None
    try:
        value = kind(text.strip())
    except ValueError:
        raise InvalidInput(f"{name} must be a number", zh=f"{name} 须为数字") from None
    if not value > 0:
        raise InvalidInput(f"{name} must be positive", zh=f"{name} 须为正数")
    return value
