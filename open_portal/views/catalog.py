"""The catalog as anyone sees it, a dataset's page (its owner sees more), its assessment report
(page and PDF), and the publish form."""

from __future__ import annotations

from collections import Counter
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from pydantic import BaseModel

from open_portal import ledger, permissions, reports, vocabularies
from open_portal.exceptions import InvalidInput
from open_portal.i18n import translator
from open_portal.models import Level
from open_portal.service import assessment, catalog, detection, harvest
from open_portal.service.context import Portal
from open_portal.web import language, render

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


def dataset_page(
    request: Request,
    portal: Portal,
    *,
    actor: str,
    dataset_id: str,
    policy_error: str = "",
    typed: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The dataset page; after a refused confirmation, with the error and what was typed."""
    with portal.sessions() as session:
        dataset = catalog.get_dataset(portal, session, actor=actor, dataset_id=dataset_id)
        release = catalog.public_release(session, dataset)
        version = dataset.latest
        is_owner = permissions.can_update_dataset(portal.policy, actor, dataset)
        return render(
            request,
            "dataset.html",
            status_code=status_code,
            dataset=dataset,
            version=version,
            release=release,
            is_owner=is_owner,
            column_types=COLUMN_TYPE_LABELS,
            detection=detection.detection_of(session, version.id) if is_owner and version else None,
            budget=catalog.budget_view(ledger.dataset_balance(session, dataset.id)),
            policy_error=policy_error,
            typed_policy=(typed or {}).get("policy_yaml"),
            typed_types=(typed or {}).get("types", {}),
        )


def report_page(request: Request, portal: Portal, *, actor: str, dataset_id: str) -> HTMLResponse:
    """The security assessment of the confirmed policy, with charts."""
    with portal.sessions() as session:
        dataset = catalog.get_dataset(portal, session, actor=actor, dataset_id=dataset_id)
        version = assessment.assessed_version(portal, session, actor=actor, dataset=dataset)
        view = assessment.report_view(dataset, version)
        t = translator(language(request))
        return render(
            request,
            "report.html",
            view=view,
            level_note=reports.LEVEL_NOTE.get(view["level"], ""),
            risk_chart=Markup(reports.risk_svg(view["measures"], t)) if view["ready"] else "",
            actions_chart=Markup(reports.actions_svg(view["columns"], t)) if view["ready"] else "",
            detection=detection.detection_of(session, version.id),
        )


def report_pdf(request: Request, portal: Portal, *, actor: str, dataset_id: str) -> Response:
    """The assessment as a PDF in the reader's language, once it is made."""
    lang = language(request)
    with portal.sessions() as session:
        dataset = catalog.get_dataset(portal, session, actor=actor, dataset_id=dataset_id)
        version = assessment.assessed_version(portal, session, actor=actor, dataset=dataset)
        if not version.assessment or "failed" in version.assessment:
            raise InvalidInput(
                "the assessment is being made: try again in a moment",
                zh="安全评估报告正在生成，请稍后再试",
            )
        data = reports.report_pdf(assessment.report_view(dataset, version), translator(lang), lang)
    name = f"{dataset_id}-v{version.number}-assessment.pdf"
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def publish_page(
    request: Request,
    portal: Portal,
    *,
    actor: str,
    values: dict[str, str],
    error: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    """The publish form, again with what was typed and what is wrong after a refusal."""
    with portal.sessions() as session:
        departments = catalog.owner_departments(portal, session, actor=actor)
    return render(
        request,
        "publish.html",
        status_code=status_code,
        levels=[lv.value for lv in Level],
        departments=departments,
        frequencies=vocabularies.FREQUENCIES,
        themes=vocabularies.THEMES,
        chosen_theme=(term.code if (term := vocabularies.theme(values.get("theme", ""))) else ""),
        values=values,
        error=error,
    )
