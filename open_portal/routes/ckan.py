"""CKAN's action API (read side) and the DCAT-AP 3 catalog, for the open-data world's programs.

``/api/action/<name>`` and ``/api/3/action/<name>``, by GET with query parameters or by POST
with a JSON or form body, answer ``{"help", "success", "result"}`` as CKAN does, and CKAN's
error objects and statuses on bad input. ``/dcat/catalog`` and ``/dcat/datasets/<id>`` serve
DCAT-AP 3 in JSON-LD, Turtle or RDF/XML, by suffix or by ``Accept``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from open_portal import ckan, dcat
from open_portal.auth import Identity
from open_portal.exceptions import InvalidInput, NotFound
from open_portal.schemas import NAME_MAX, TEXT_MAX
from open_portal.service import catalog
from open_portal.web import Guard, PortalDep

router = APIRouter()
# The catalog's programs read what an anonymous reader may see, whoever calls.
ReaderDep = Annotated[Identity, Depends(Guard(login=False))]
MAX_BODY = 64 * 1024
CATALOG_PAGE = 100


def public_base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + request.app.state.prefix


async def action_params(request: Request) -> dict[str, Any]:
    """The action's parameters: the query string, and a JSON or form body on POST."""
    params: dict[str, Any] = {}
    for key in request.query_params:
        values = request.query_params.getlist(key)
        if len(key) > NAME_MAX or any(len(v) > TEXT_MAX for v in values):
            raise ckan.CkanError(
                "Bad Request",
                400,
                f"Bad request - parameter {key[:NAME_MAX]!r} longer than {TEXT_MAX} characters"
                f" / 参数 {key[:NAME_MAX]} 超过 {TEXT_MAX} 个字符",
            )
        params[key] = values if len(values) > 1 else values[0]
    if request.method != "POST":
        return params
    body = await request.body()
    if len(body) > MAX_BODY:
        raise ckan.CkanError("Bad Request", 400, f"Bad request - body over {MAX_BODY} bytes")
    content_type = request.headers.get("content-type", "")
    if "form" in content_type:
        form = await request.form()
        for key in form:
            values = [v for v in form.getlist(key) if isinstance(v, str)]
            params[key] = values if len(values) > 1 else (values[0] if values else "")
    elif body.strip():
        try:
            parsed = json.loads(body)
        except ValueError:
            raise ckan.CkanError("Bad Request", 400, "Bad request - JSON Error: not JSON") from None
        if not isinstance(parsed, dict):
            raise ckan.CkanError(
                "Bad Request", 400, "Bad request - JSON Error: the body must be an object"
            )
        params.update(parsed)
    return params


async def answer(request: Request, portal: PortalDep, name: str) -> JSONResponse:
    help_url = f"{public_base(request)}/api/3/action/help_show?name={name[:80]}"
    try:
        params = await action_params(request)
        with portal.sessions() as session:
            result = ckan.call(ckan.Context(portal, session, public_base(request)), name, params)
    except ckan.CkanError as exc:
        return JSONResponse(
            {"help": help_url, "success": False, "error": exc.body()}, status_code=exc.status
        )
    return JSONResponse({"help": help_url, "success": True, "result": result})


@router.get("/api/3/action/{name}", name="ckan_action")
@router.post("/api/3/action/{name}", name="ckan_action_post")
async def ckan_action(
    request: Request, portal: PortalDep, user: ReaderDep, name: str
) -> JSONResponse:
    """One CKAN action (API version 3)."""
    return await answer(request, portal, name)


@router.get("/api/action/{name}", name="ckan_action_unversioned")
@router.post("/api/action/{name}", name="ckan_action_unversioned_post")
async def ckan_action_unversioned(
    request: Request, portal: PortalDep, user: ReaderDep, name: str
) -> JSONResponse:
    """The same action without the version in the path, as ckanapi calls it."""
    return await answer(request, portal, name)


def _format(request: Request, suffix: str) -> str:
    fmt = suffix or dcat.negotiate(request.headers.get("accept", ""))
    if fmt not in dcat.FORMATS:
        raise InvalidInput(
            "ask for JSON-LD, Turtle or RDF/XML (.jsonld, .ttl, .rdf)",
            zh="请以 JSON-LD、Turtle 或 RDF/XML 格式请求（.jsonld、.ttl、.rdf）",
        )
    return fmt


def _catalog(request: Request, portal: PortalDep, suffix: str, page: int) -> Response:
    fmt = _format(request, suffix)
    if not 1 <= page <= 10**6:
        raise InvalidInput("page must be 1 or more", zh="page 须为正整数")
    with portal.sessions() as session:
        ctx = ckan.Context(portal, session, public_base(request))
        datasets = ckan.visible(ctx)
        paging = dcat.Page(number=page, size=CATALOG_PAGE, total=len(datasets))
        if page > paging.last:
            raise NotFound(f"no page {page}", zh=f"没有第 {page} 页")
        shown = datasets[(page - 1) * CATALOG_PAGE : page * CATALOG_PAGE]
        graph = dcat.catalog_graph(
            dcat.CatalogInfo(base=ctx.base),
            [(d, catalog.public_release(session, d)) for d in shown],
            page=paging,
            fmt=fmt,
        )
    data, media_type = dcat.serialize(graph, fmt)
    return Response(data, media_type=media_type, headers={"Vary": "Accept"})


@router.get("/dcat/catalog", name="dcat_catalog")
def dcat_catalog(request: Request, portal: PortalDep, user: ReaderDep, page: int = 1) -> Response:
    """The whole catalog in DCAT-AP 3, by content negotiation, 100 datasets a page."""
    return _catalog(request, portal, "", page)


@router.get("/dcat/catalog.{fmt}", name="dcat_catalog_as")
def dcat_catalog_as(
    request: Request, portal: PortalDep, user: ReaderDep, fmt: str, page: int = 1
) -> Response:
    """The catalog in one format: ``jsonld``, ``ttl`` or ``rdf``."""
    return _catalog(request, portal, fmt or "-", page)


def _dataset(request: Request, portal: PortalDep, dataset_id: str, suffix: str) -> Response:
    fmt = _format(request, suffix)
    with portal.sessions() as session:
        dataset = catalog.get_dataset(portal, session, actor=ckan.ANONYMOUS, dataset_id=dataset_id)
        graph = dcat.dataset_graph(
            dataset, catalog.public_release(session, dataset), base=public_base(request)
        )
    data, media_type = dcat.serialize(graph, fmt)
    return Response(data, media_type=media_type, headers={"Vary": "Accept"})


@router.get("/dcat/datasets/{dataset_id}.{fmt}", name="dcat_dataset_as")
def dcat_dataset_as(
    request: Request, portal: PortalDep, user: ReaderDep, dataset_id: str, fmt: str
) -> Response:
    """One dataset's DCAT-AP 3 record in one format."""
    return _dataset(request, portal, dataset_id, fmt or "-")


@router.get("/dcat/datasets/{dataset_id}", name="dcat_dataset")
def dcat_dataset(request: Request, portal: PortalDep, user: ReaderDep, dataset_id: str) -> Response:
    """One dataset's DCAT-AP 3 record, by content negotiation."""
    return _dataset(request, portal, dataset_id, "")
