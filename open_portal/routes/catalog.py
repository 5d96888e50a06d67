"""Catalog pages (public, as an open-data portal is), DCAT, L1 downloads and publishing."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field, ValidationError

from open_portal.auth import Identity
from open_portal.exceptions import Error, InvalidInput
from open_portal.params import DatasetId
from open_portal.schemas import DOCUMENT_MAX, LINE_MAX, NAME_MAX, TEXT_MAX, DatasetMeta
from open_portal.service import assessment, catalog
from open_portal.views import catalog as views
from open_portal.views.catalog import DatasetBudgetOut
from open_portal.web import CsrfDep, Guard, PortalDep, form_error, language, status_of
from policies import AccessDenied

router = APIRouter()
ReaderDep = Annotated[Identity, Depends(Guard(login=False))]
MAX_UPLOAD = 200 * 1024 * 1024


@router.get("/catalog", response_class=HTMLResponse)
def catalog_page(
    request: Request,
    portal: PortalDep,
    user: ReaderDep,
    q: Annotated[str, Query(max_length=LINE_MAX)] = "",
    publisher: Annotated[str, Query(max_length=NAME_MAX)] = "",
    theme: Annotated[str, Query(max_length=LINE_MAX)] = "",
    level: Annotated[str, Query(max_length=NAME_MAX)] = "",
    open_class: Annotated[str, Query(max_length=NAME_MAX)] = "",
    source: Annotated[str, Query(max_length=NAME_MAX)] = "",
    start: int = 0,
) -> HTMLResponse:
    filters = {
        k: [v]
        for k, v in {
            "publisher": publisher,
            "theme": theme,
            "level": level,
            "open_class": open_class,
        }.items()
        if v
    }
    return views.catalog_page(
        request, portal, actor=user.name, q=q, filters=filters, start=max(start, 0), source=source
    )


@router.get("/datasets/{dataset_id}", response_class=HTMLResponse)
def dataset_page(
    request: Request, portal: PortalDep, user: ReaderDep, dataset_id: DatasetId
) -> HTMLResponse:
    return views.dataset_page(request, portal, actor=user.name, dataset_id=dataset_id)


@router.get("/datasets/{dataset_id}/dcat.jsonld")
def dataset_dcat(request: Request, user: ReaderDep, dataset_id: DatasetId) -> RedirectResponse:
    """The dataset's DCAT-AP 3 record now lives at ``/dcat/datasets/<id>.jsonld``."""
    target = f"{request.app.state.prefix}/dcat/datasets/{quote(dataset_id, safe='')}.jsonld"
    return RedirectResponse(target, status_code=308)


@router.get("/datasets/{dataset_id}/download")
def download(portal: PortalDep, user: ReaderDep, dataset_id: DatasetId) -> FileResponse:
    path, release = catalog.download_release(portal, actor=user.name, dataset_id=dataset_id)
    return FileResponse(path, filename=path.name, headers={"X-Content-SHA256": release.sha256})


@router.get("/datasets/{dataset_id}/report", response_class=HTMLResponse)
def report_page(
    request: Request, portal: PortalDep, user: ReaderDep, dataset_id: DatasetId
) -> HTMLResponse:
    """The security assessment of the confirmed policy, with charts (public for L1)."""
    return views.report_page(request, portal, actor=user.name, dataset_id=dataset_id)


@router.get("/datasets/{dataset_id}/report.json")
def report_json(portal: PortalDep, user: ReaderDep, dataset_id: DatasetId) -> JSONResponse:
    """The assessment as the desensitization engine wrote it (``pds.release_report/v1``)."""
    with portal.sessions() as session:
        dataset = catalog.get_dataset(portal, session, actor=user.name, dataset_id=dataset_id)
        version = assessment.assessed_version(portal, session, actor=user.name, dataset=dataset)
        if not version.assessment or "failed" in version.assessment:
            raise InvalidInput(
                "the assessment is being made: try again in a moment",
                zh="安全评估报告正在生成，请稍后再试",
            )
        return JSONResponse(version.assessment)


@router.get("/datasets/{dataset_id}/report.pdf")
def report_pdf(
    request: Request, portal: PortalDep, user: ReaderDep, dataset_id: DatasetId
) -> Response:
    """The assessment as a PDF in the reader's language."""
    return views.report_pdf(request, portal, actor=user.name, dataset_id=dataset_id)


PublisherDep = Annotated[Identity, Depends(Guard())]


@router.get("/publish", response_class=HTMLResponse)
def publish_form(request: Request, portal: PortalDep, user: PublisherDep) -> HTMLResponse:
    return views.publish_page(request, portal, actor=user.name, values={})


@router.post("/publish", dependencies=[CsrfDep], response_model=None)
async def publish(
    request: Request,
    portal: PortalDep,
    user: PublisherDep,
    file: UploadFile,
    id: Annotated[str, Form(max_length=NAME_MAX)],
    title_zh: Annotated[str, Form(max_length=LINE_MAX)],
    title_en: Annotated[str, Form(max_length=LINE_MAX)],
    publisher: Annotated[str, Form(max_length=NAME_MAX)],
    level: Annotated[str, Form(max_length=NAME_MAX)],
    description_zh: Annotated[str, Form(max_length=TEXT_MAX)] = "",
    description_en: Annotated[str, Form(max_length=TEXT_MAX)] = "",
    theme: Annotated[str, Form(max_length=LINE_MAX)] = "",
    keywords: Annotated[str, Form(max_length=TEXT_MAX)] = "",
    temporal_start: Annotated[str, Form(max_length=4)] = "",
    temporal_end: Annotated[str, Form(max_length=4)] = "",
    spatial_coverage: Annotated[str, Form(max_length=LINE_MAX)] = "",
    update_frequency: Annotated[str, Form(max_length=NAME_MAX)] = "",
    contact: Annotated[str, Form(max_length=LINE_MAX)] = "",
) -> RedirectResponse | HTMLResponse:
    """Publish, or show the form again with what was typed and what is wrong."""
    values = {
        "id": id,
        "title_zh": title_zh,
        "title_en": title_en,
        "publisher": publisher,
        "level": level,
        "description_zh": description_zh,
        "description_en": description_en,
        "theme": theme,
        "keywords": keywords,
        "temporal_start": temporal_start,
        "temporal_end": temporal_end,
        "spatial_coverage": spatial_coverage,
        "update_frequency": update_frequency,
        "contact": contact,
    }
    try:
        content = await file.read(MAX_UPLOAD + 1)
        if len(content) > MAX_UPLOAD:
            raise InvalidInput("the file is larger than 200 MB", zh="文件超过 200 MB")
        meta = DatasetMeta(
            id=id,
            title_zh=title_zh,
            title_en=title_en,
            publisher=publisher,
            level=level,
            description_zh=description_zh,
            description_en=description_en,
            theme=theme,
            keywords=[k.strip() for k in keywords.replace("，", ",").split(",") if k.strip()],
            temporal_coverage=temporal_range(temporal_start, temporal_end),
            spatial_coverage=spatial_coverage,
            update_frequency=update_frequency,
            contact=contact,
        )
        dataset = catalog.publish_dataset(
            portal, actor=user.name, meta=meta, file_name=file.filename or "upload", content=content
        )
    except (Error, AccessDenied, ValidationError) as exc:
        return views.publish_page(
            request,
            portal,
            actor=user.name,
            values=values,
            error=form_error(exc, language(request)),
            status_code=status_of(exc),
        )
    return RedirectResponse(
        f"{request.app.state.prefix}/datasets/{dataset.id}#policy", status_code=303
    )


def temporal_range(start: str, end: str) -> str:
    """``2020/2024`` (DCAT's period of time, in years) from the form's two years."""
    for year in (start, end):
        if year and not (year.isdigit() and len(year) == 4):
            raise InvalidInput(
                f"the time range is given in years (4 digits), not {year!r}",
                zh=f"时间范围请填写四位年份，而不是 {year}",
            )
    if start and end and end < start:
        raise InvalidInput("the time range ends before it starts", zh="时间范围的结束早于开始")
    return f"{start}/{end}" if start and end else start or end


OwnerDep = Annotated[Identity, Depends(Guard())]


@router.post("/datasets/{dataset_id}/versions", dependencies=[CsrfDep])
async def upload_version(
    request: Request, portal: PortalDep, user: OwnerDep, dataset_id: DatasetId, file: UploadFile
) -> RedirectResponse:
    """A new version of the dataset; its proposed policy must be confirmed again."""
    content = await file.read(MAX_UPLOAD + 1)
    if len(content) > MAX_UPLOAD:
        raise InvalidInput("the file is larger than 200 MB", zh="文件超过 200 MB")
    catalog.upload_version(
        portal,
        actor=user.name,
        dataset_id=dataset_id,
        file_name=file.filename or "upload",
        content=content,
    )
    return RedirectResponse(
        f"{request.app.state.prefix}/datasets/{dataset_id}#policy", status_code=303
    )


TYPE_FIELD = "type:"


@router.post("/datasets/{dataset_id}/policy", dependencies=[CsrfDep], response_model=None)
async def confirm_policy(
    request: Request,
    portal: PortalDep,
    user: OwnerDep,
    dataset_id: DatasetId,
    policy_yaml: Annotated[str, Form(max_length=DOCUMENT_MAX)],
) -> RedirectResponse | HTMLResponse:
    """The policy and, in fields ``type:<column>``, the type of each column in releases."""
    form = await request.form()
    types = {
        k.removeprefix(TYPE_FIELD): str(v) for k, v in form.items() if k.startswith(TYPE_FIELD)
    }
    try:
        catalog.confirm_policy(
            portal,
            actor=user.name,
            dataset_id=dataset_id,
            policy_yaml=policy_yaml,
            column_types=types or None,
        )
    except InvalidInput as exc:  # shown above the policy as typed, nothing lost
        return views.dataset_page(
            request,
            portal,
            actor=user.name,
            dataset_id=dataset_id,
            policy_error=form_error(exc, language(request)),
            typed={"policy_yaml": policy_yaml, "types": types},
            status_code=exc.status_code,
        )
    return RedirectResponse(
        f"{request.app.state.prefix}/datasets/{dataset_id}/report", status_code=303
    )


@router.post("/datasets/{dataset_id}/budget", dependencies=[CsrfDep])
def set_budget_from_form(
    request: Request,
    portal: PortalDep,
    user: OwnerDep,
    dataset_id: DatasetId,
    total: Annotated[str, Form(max_length=32)],
    per_person: Annotated[str, Form(max_length=32)] = "",
) -> RedirectResponse:
    catalog.set_privacy_budget(
        portal, actor=user.name, dataset_id=dataset_id, total=total, per_person=per_person
    )
    return RedirectResponse(
        f"{request.app.state.prefix}/datasets/{dataset_id}#budget", status_code=303
    )


class BudgetInput(BaseModel):
    """The dataset's total ε for all its grants, and optionally each person's share."""

    total: str = Field(min_length=1, max_length=32)
    per_person: str | None = Field(default=None, max_length=32)


@router.post("/api/datasets/{dataset_id}/budget", response_model=DatasetBudgetOut)
def set_budget(
    portal: PortalDep, user: OwnerDep, dataset_id: DatasetId, body: BudgetInput
) -> DatasetBudgetOut:
    state = catalog.set_privacy_budget(
        portal, actor=user.name, dataset_id=dataset_id, total=body.total, per_person=body.per_person
    )
    return views.budget_out(state)
