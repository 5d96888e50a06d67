"""A CKAN-compatible read API: ``package_search`` and ``package_show``.

Answers ``{"help", "success", "result"}`` as CKAN does, and ``success: false`` with an
``error`` object and a 4xx status on bad input.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from open_portal.auth import Identity
from open_portal.dcat import ckan_package
from open_portal.exceptions import Error, NotFound
from open_portal.service import catalog
from open_portal.web import Guard, PortalDep

router = APIRouter(prefix="/api/3/action")
ReaderDep = Annotated[Identity, Depends(Guard("read", "catalog", login=False, per_resource=True))]

# CKAN field names accepted in ``fq`` and ``facet.field`` -> our facet names
FIELDS = {
    "organization": "publisher",
    "owner_org": "publisher",
    "publisher": "publisher",
    "groups": "theme",
    "theme": "theme",
    "level": "level",
    "open_class": "open_class",
}
SORTS = {
    "title_string": "title_zh",
    "title": "title_zh",
    "name": "id",
    "metadata_modified": "modified",
    "metadata_created": "issued",
    "score": "title_zh",
}
FQ_TERM = re.compile(r'(\w+):(?:"([^"]*)"|(\S+))')


def _help(request: Request, action: str) -> str:
    return str(request.url_for("package_" + action))


def _error(request: Request, action: str, status: int, message: str, kind: str) -> JSONResponse:
    body = {
        "help": _help(request, action),
        "success": False,
        "error": {"__type": kind, "message": message},
    }
    return JSONResponse(body, status_code=status)


def parse_fq(fq: str) -> dict[str, list[str]]:
    filters: dict[str, list[str]] = {}
    rest = FQ_TERM.sub("", fq).strip()
    if rest:
        raise ValueError(f"fq must be field:value terms, could not read {rest!r}")
    for field, quoted, bare in FQ_TERM.findall(fq):
        if field not in FIELDS:
            raise ValueError(f"unknown fq field {field!r}; use one of {', '.join(sorted(FIELDS))}")
        filters.setdefault(FIELDS[field], []).append(quoted or bare)
    return filters


def parse_sort(sort: str) -> str:
    key, _, direction = sort.strip().partition(" ")
    direction = direction.strip() or "asc"
    if key not in SORTS or direction not in ("asc", "desc"):
        raise ValueError(f"cannot sort by {sort!r}; use e.g. 'metadata_modified desc'")
    return f"{SORTS[key]} {direction}"


@router.get("/package_search", name="package_search")
def package_search(
    request: Request,
    portal: PortalDep,
    user: ReaderDep,
    q: str = "",
    fq: str = "",
    rows: int = 10,
    start: int = 0,
    sort: str = "title_string asc",
) -> JSONResponse:
    facet_fields = request.query_params.get("facet.field", "[]")
    try:
        filters = parse_fq(fq)
        sort_key = parse_sort(sort)
        wanted = json.loads(facet_fields)
        if not isinstance(wanted, list) or any(f not in FIELDS for f in wanted):
            raise ValueError(f"facet.field must be a JSON list of {', '.join(sorted(FIELDS))}")
        if not 0 <= rows <= 1000 or start < 0:
            raise ValueError("rows must be 0-1000 and start at least 0")
    except (ValueError, json.JSONDecodeError) as exc:
        return _error(request, "search", 400, str(exc), "Validation Error")
    q = "" if q.strip() in ("*:*", "*") else q
    base = str(request.base_url).rstrip("/") + request.app.state.prefix
    with portal.sessions() as session:
        try:
            result = catalog.search(
                portal,
                session,
                actor=user.name,
                q=q,
                filters=filters,
                start=start,
                rows=rows,
                sort=sort_key,
            )
        except Error as exc:
            return _error(request, "search", 400, str(exc), "Validation Error")
        packages = [
            ckan_package(d, catalog.public_release(session, d), base=base) for d in result.datasets
        ]
    search_facets: dict[str, Any] = {}
    facets: dict[str, Any] = {}
    for name in wanted:
        counts = result.facets[FIELDS[name]]
        facets[name] = dict(counts)
        search_facets[name] = {
            "title": name,
            "items": [{"name": k, "display_name": k, "count": c} for k, c in counts.most_common()],
        }
    return JSONResponse(
        {
            "help": _help(request, "search"),
            "success": True,
            "result": {
                "count": result.total,
                "sort": sort,
                "results": packages,
                "facets": facets,
                "search_facets": search_facets,
            },
        }
    )


@router.get("/package_show", name="package_show")
def package_show(
    request: Request, portal: PortalDep, user: ReaderDep, id: str = ""
) -> JSONResponse:
    if not id:
        return _error(request, "show", 409, "Missing value: id", "Validation Error")
    base = str(request.base_url).rstrip("/") + request.app.state.prefix
    with portal.sessions() as session:
        try:
            dataset = catalog.get_dataset(portal, session, actor=user.name, dataset_id=id)
        except NotFound:
            return _error(request, "show", 404, "Not found", "Not Found Error")
        package = ckan_package(dataset, catalog.public_release(session, dataset), base=base)
    return JSONResponse({"help": _help(request, "show"), "success": True, "result": package})
