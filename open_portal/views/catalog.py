"""The catalog as anyone sees it, and a dataset's page (its owner sees more)."""

from __future__ import annotations

from collections import Counter

from fastapi import Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from open_portal import ledger
from open_portal.service import catalog, harvest
from open_portal.service.context import Portal
from open_portal.web import render

# The column types an owner can choose, with their labels (translated on the page).
COLUMN_TYPE_LABELS = {
    "string": "text",
    "integer": "integer",
    "float": "decimal",
    "date": "date",
    "datetime": "date and time",
}


class DatasetBudgetOut(BaseModel):
    """A dataset's total privacy budget (ε as exact decimals); ``per_person`` may be unset."""

    total: str
    spent: str
    remaining: str
    per_person: str | None


def budget_out(state: ledger.DatasetBalance) -> DatasetBudgetOut:
    return DatasetBudgetOut(
        total=str(state.budget),
        spent=str(state.spent),
        remaining=str(state.remaining),
        per_person=None if state.per_person is None else str(state.per_person),
    )


def catalog_page(
    request: Request,
    portal: Portal,
    *,
    actor: str,
    q: str,
    filters: dict[str, list[str]],
    start: int,
    source: str,
) -> HTMLResponse:
    with portal.sessions() as session:
        result = catalog.search(portal, session, actor=actor, q=q, filters=filters, start=start)
        # datasets of other platforms (一本账): metadata with a link back, never data
        harvested = [] if filters else harvest.search(session, q=q)
        sources = Counter((d.source_id, d.source.title) for d in harvested)
        if source:
            harvested = [d for d in harvested if str(d.source_id) == source]
        return render(
            request,
            "catalog.html",
            result=result,
            q=q,
            filters=filters,
            harvested=harvested[:100],
            harvested_total=len(harvested),
            sources=sources.most_common(),
            publishers=catalog.publisher_names(session),
        )
