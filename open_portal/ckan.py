"""The read side of CKAN's action API over the catalog, answering as CKAN 2.10 does.

Every action sees the catalog as an anonymous reader sees it: L4 datasets and drafts are never
listed, and asking for one is answered exactly like asking for an unknown id. Results are CKAN's
dicts (packages with resources, organizations, groups, tags); errors are :class:`CkanError` with
CKAN's ``__type`` and HTTP status, which ckanapi turns back into its exceptions.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from open_portal import vocabularies
from open_portal.exceptions import Error, NotFound
from open_portal.models import Dataset, Release
from open_portal.service import catalog
from open_portal.service.context import Portal

ANONYMOUS = ""
CKAN_VERSION = "2.10.0"
MAX_ROWS = 1000
WRITE_ACTION = re.compile(r"_(create|update|patch|delete|purge|revise)$|^(member|user|api_token)_")

# CKAN field names accepted in ``fq`` and ``facet.field`` -> the catalog's facet names
FIELDS = {
    "organization": "publisher",
    "owner_org": "publisher",
    "publisher": "publisher",
    "groups": "theme",
    "theme": "theme",
    "level": "level",
    "open_class": "open_class",
    "tags": "keywords",
    "res_format": "format",
}
FACETS = ("publisher", "theme", "level", "open_class")
SORTS = {
    "title_string": "title_zh",
    "title": "title_zh",
    "name": "id",
    "metadata_modified": "modified",
    "metadata_created": "issued",
    "score": "modified",
}
FQ_TERM = re.compile(r'(?:\+|-)?(\w+):(?:"([^"]*)"|(\S+))')


class CkanError(Exception):
    """An error as CKAN reports it: its ``__type``, HTTP status, message and field errors."""

    def __init__(
        self, kind: str, status: int, message: str, fields: dict[str, list[str]] | None = None
    ) -> None:
        super().__init__(message)
        self.kind, self.status, self.message, self.fields = kind, status, message, fields or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"__type": self.kind, "message": self.message}
        error.update(self.fields)
        return error


def not_found(what: str = "") -> CkanError:
    return CkanError("Not Found Error", 404, f"Not found: {what}" if what else "Not found")


def invalid(field: str, message: str) -> CkanError:
    return CkanError("Validation Error", 409, f"{field}: {message}", {field: [message]})


@dataclass
class Context:
    """What an action runs with: the portal, a read session and the portal's public address."""

    portal: Portal
    session: Session
    base: str


Params = dict[str, Any]


# ---- parameters ------------------------------------------------------------------------------


def _text(params: Params, name: str, default: str = "") -> str:
    value = params.get(name, default)
    if isinstance(value, list):
        value = value[-1] if value else default
    if value is None:
        return default
    if not isinstance(value, (str, int, float)):
        raise invalid(name, "must be a string")
    return str(value)


def _int(params: Params, name: str, default: int, lowest: int, highest: int) -> int:
    raw = params.get(name, default)
    if isinstance(raw, list):
        raw = raw[-1] if raw else default
    if isinstance(raw, bool) or not isinstance(raw, (int, str)):
        raise invalid(name, "must be an integer")
    try:
        value = int(raw)
    except ValueError:
        raise invalid(name, "must be an integer") from None
    if not lowest <= value <= highest:
        raise invalid(name, f"must be between {lowest} and {highest}")
    return value


def _bool(params: Params, name: str, default: bool = False) -> bool:
    raw = params.get(name, default)
    if isinstance(raw, list):
        raw = raw[-1] if raw else default
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off", ""):
        return False
    raise invalid(name, "must be true or false")


def _list(params: Params, name: str) -> list[str]:
    """A list given as a JSON list, repeated query parameters, or one bare name."""
    raw = params.get(name)
    if raw is None:
        return []
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raw = [raw]
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
        raise invalid(name, "must be a list of field names")
    return raw


def parse_fq(fq: str) -> dict[str, list[str]]:
    """``organization:market level:"L1"`` -> ``{"publisher": ["market"], "level": ["L1"]}``."""
    filters: dict[str, list[str]] = {}
    rest = FQ_TERM.sub("", fq).replace("AND", "").strip()
    if rest:
        raise invalid("fq", f"must be field:value terms, could not read {rest[:80]!r}")
    for field, quoted, bare in FQ_TERM.findall(fq):
        if field not in FIELDS:
            raise invalid(
                "fq", f"unknown field {field[:40]!r}; use one of {', '.join(sorted(FIELDS))}"
            )
        filters.setdefault(FIELDS[field], []).append(quoted or bare)
    return filters


def parse_sort(sort: str) -> str:
    key, _, direction = sort.strip().partition(" ")
    direction = direction.strip().lower() or "asc"
    if key not in SORTS or direction not in ("asc", "desc"):
        raise invalid("sort", f"cannot sort by {sort[:80]!r}; use e.g. 'metadata_modified desc'")
    return f"{SORTS[key]} {direction}"


# ---- what the catalog shows ------------------------------------------------------------------


def visible(ctx: Context) -> list[Dataset]:
    """Every dataset an anonymous reader may see, in id order."""
    found = catalog.search(ctx.portal, ctx.session, actor=ANONYMOUS, rows=10**6, sort="id asc")
    return found.datasets


def dataset_or_404(ctx: Context, dataset_id: str) -> Dataset:
    try:
        return catalog.get_dataset(ctx.portal, ctx.session, actor=ANONYMOUS, dataset_id=dataset_id)
    except NotFound:
        raise not_found("Dataset") from None


def resources(ctx: Context, dataset: Dataset, release: Release | None) -> list[dict[str, Any]]:
    """One resource per distribution: the open download (L1), the DCAT record, the report."""
    page = f"{ctx.base}/datasets/{dataset.id}"
    made: list[dict[str, Any]] = [
        {
            "id": f"{dataset.id}-dcat",
            "name": "DCAT-AP 元数据 / DCAT-AP record",
            "description": "DCAT-AP 3 metadata of this dataset (JSON-LD; .ttl and .rdf too)",
            "format": "JSON-LD",
            "mimetype": "application/ld+json",
            "url": f"{ctx.base}/dcat/datasets/{dataset.id}.jsonld",
        }
    ]
    if release is not None:
        made.insert(
            0,
            {
                "id": f"{dataset.id}-release-{release.id}",
                "name": f"{dataset.id}.parquet",
                "description": "脱敏后的开放版本 / the desensitized open release",
                "format": "Parquet",
                "mimetype": "application/vnd.apache.parquet",
                "url": f"{page}/download",
                "hash": f"sha256:{release.sha256}",
                "created": release.created_at.isoformat(),
            },
        )
        made.append(
            {
                "id": f"{dataset.id}-report-{release.id}",
                "name": "安全评估报告 / security assessment report",
                "description": "What the desensitization found and did, and the risk it leaves",
                "format": "JSON",
                "mimetype": "application/json",
                "url": f"{page}/report",
                "created": release.created_at.isoformat(),
            }
        )
    for position, resource in enumerate(made):
        resource.update(package_id=dataset.id, position=position, state="active")
    return made


def organization(dataset: Dataset, count: int | None = None) -> dict[str, Any]:
    org = {
        "id": dataset.publisher,
        "name": dataset.publisher,
        "title": dataset.publisher_name_zh or dataset.publisher,
        "title_en": dataset.publisher_name_en or dataset.publisher,
        "display_name": dataset.publisher_name_zh or dataset.publisher,
        "type": "organization",
        "is_organization": True,
        "state": "active",
        "approval_status": "approved",
        "description": "",
        "image_url": "",
    }
    if count is not None:
        org["package_count"] = count
    return org


def group(theme: str, count: int | None = None) -> dict[str, Any]:
    term = vocabularies.theme(theme)
    found = {
        "id": theme,
        "name": theme,
        "title": theme,
        "title_en": term.en if term else theme,
        "display_name": theme,
        "type": "group",
        "is_organization": False,
        "state": "active",
        "approval_status": "approved",
        "description": "",
        "image_url": "",
        "dcat_theme": term.iri if term else None,
    }
    if count is not None:
        found["package_count"] = count
    return found


def package(ctx: Context, dataset: Dataset) -> dict[str, Any]:
    """The dataset as a CKAN package dict."""
    release = catalog.public_release(ctx.session, dataset)
    listed = resources(ctx, dataset, release)
    return {
        "id": dataset.id,
        "name": dataset.id,
        "title": dataset.title_zh,
        "title_en": dataset.title_en,
        "notes": dataset.description_zh,
        "notes_en": dataset.description_en,
        "url": f"{ctx.base}/datasets/{dataset.id}",
        "organization": organization(dataset),
        "owner_org": dataset.publisher,
        "author": dataset.publisher_name_zh or dataset.publisher,
        "maintainer_email": dataset.contact,
        "tags": [
            {"name": str(k), "display_name": str(k), "state": "active", "vocabulary_id": None}
            for k in dataset.keywords
        ],
        "groups": [group(dataset.theme)] if dataset.theme else [],
        "license_id": dataset.licence or vocabularies.DEFAULT_LICENCE,
        "version": str(dataset.latest.number if dataset.latest else 0),
        "metadata_created": dataset.issued.isoformat(),
        "metadata_modified": dataset.modified.isoformat(),
        "level": dataset.level.value,
        "open_class": dataset.open_class.value,
        "access_rights": dataset.open_class.access_right,
        "temporal_coverage": dataset.temporal_coverage,
        "spatial_coverage": dataset.spatial_coverage,
        "update_frequency": dataset.update_frequency,
        "contact": dataset.contact,
        "columns": list(dataset.columns),
        "num_resources": len(listed),
        "num_tags": len(dataset.keywords),
        "resources": listed,
        "state": "active",
        "type": "dataset",
        "private": False,
        "isopen": dataset.open_class.access_right == "PUBLIC",
    }


# ---- actions ---------------------------------------------------------------------------------


def status_show(ctx: Context, params: Params) -> dict[str, Any]:
    return {
        "ckan_version": CKAN_VERSION,
        "site_title": "公共数据沙箱 · Public Data Sandbox",
        "site_description": "公共数据开放与授权运营 / opening public data and authorized operation",
        "site_url": ctx.base,
        "locale_default": "zh_Hans_CN",
        "extensions": ["dcat"],
    }


def package_list(ctx: Context, params: Params) -> list[str]:
    limit = _int(params, "limit", MAX_ROWS, 0, MAX_ROWS)
    offset = _int(params, "offset", 0, 0, 10**9)
    return [d.id for d in visible(ctx)][offset : offset + limit]


def package_show(ctx: Context, params: Params) -> dict[str, Any]:
    dataset_id = _text(params, "id") or _text(params, "name_or_id")
    if not dataset_id:
        raise invalid("id", "Missing value")
    return package(ctx, dataset_or_404(ctx, dataset_id))


def resource_show(ctx: Context, params: Params) -> dict[str, Any]:
    resource_id = _text(params, "id")
    if not resource_id:
        raise invalid("id", "Missing value")
    for dataset in visible(ctx):
        if not resource_id.startswith(dataset.id + "-"):
            continue
        release = catalog.public_release(ctx.session, dataset)
        for resource in resources(ctx, dataset, release):
            if resource["id"] == resource_id:
                return resource
    raise not_found("Resource")


def package_search(ctx: Context, params: Params) -> dict[str, Any]:
    q = _text(params, "q").strip()
    q = "" if q in ("*:*", "*") else q
    filters = parse_fq(_text(params, "fq"))
    keywords = filters.pop("keywords", [])
    formats = [f.lower() for f in filters.pop("format", [])]
    sort_text = _text(params, "sort", "score desc, metadata_modified desc").split(",")[0]
    sort = parse_sort(sort_text)
    rows = _int(params, "rows", 10, 0, MAX_ROWS)
    start = _int(params, "start", 0, 0, 10**9)
    wanted = _list(params, "facet.field")
    unknown = [f for f in wanted if FIELDS.get(f) not in FACETS]
    if unknown:
        raise invalid("facet.field", f"cannot facet on {unknown[0][:40]!r}")
    facet_limit = _int(params, "facet.limit", 50, -1, 10**6)
    try:
        found = catalog.search(
            ctx.portal,
            ctx.session,
            actor=ANONYMOUS,
            q=q,
            filters=filters,
            rows=10**6,
            sort=sort,
        )
    except Error as exc:
        raise invalid("q", str(exc)) from None
    matching = [
        d
        for d in found.datasets
        if all(k in map(str, d.keywords) for k in keywords)
        and all(
            any(r["format"].lower() == f for r in package(ctx, d)["resources"]) for f in formats
        )
    ]
    facets: dict[str, dict[str, int]] = {}
    search_facets: dict[str, Any] = {}
    for name in wanted:
        counts = Counter(catalog.facet_value(d, FIELDS[name]) for d in matching)
        items = counts.most_common(None if facet_limit < 0 else facet_limit)
        facets[name] = dict(items)
        search_facets[name] = {
            "title": name,
            "items": [{"name": k, "display_name": k, "count": c} for k, c in items],
        }
    return {
        "count": len(matching),
        "sort": sort_text,
        "results": [package(ctx, d) for d in matching[start : start + rows]],
        "facets": facets,
        "search_facets": search_facets,
    }


def _by_publisher(ctx: Context) -> dict[str, list[Dataset]]:
    grouped: dict[str, list[Dataset]] = {}
    for dataset in visible(ctx):
        grouped.setdefault(dataset.publisher, []).append(dataset)
    return grouped


def _by_theme(ctx: Context) -> dict[str, list[Dataset]]:
    grouped: dict[str, list[Dataset]] = {}
    for dataset in visible(ctx):
        if dataset.theme:
            grouped.setdefault(dataset.theme, []).append(dataset)
    return grouped


def organization_list(ctx: Context, params: Params) -> list[Any]:
    grouped = _by_publisher(ctx)
    if _bool(params, "all_fields"):
        return [organization(items[0], len(items)) for _, items in sorted(grouped.items())]
    return sorted(grouped)


def organization_show(ctx: Context, params: Params) -> dict[str, Any]:
    org_id = _text(params, "id")
    if not org_id:
        raise invalid("id", "Missing value")
    items = _by_publisher(ctx).get(org_id)
    if not items:
        raise not_found("Organization")
    shown = organization(items[0], len(items))
    if _bool(params, "include_datasets"):
        shown["packages"] = [package(ctx, d) for d in items]
    return shown


def group_list(ctx: Context, params: Params) -> list[Any]:
    grouped = _by_theme(ctx)
    if _bool(params, "all_fields"):
        return [group(theme, len(items)) for theme, items in sorted(grouped.items())]
    return sorted(grouped)


def group_show(ctx: Context, params: Params) -> dict[str, Any]:
    group_id = _text(params, "id")
    if not group_id:
        raise invalid("id", "Missing value")
    items = _by_theme(ctx).get(group_id)
    if not items:
        raise not_found("Group")
    shown = group(group_id, len(items))
    if _bool(params, "include_datasets"):
        shown["packages"] = [package(ctx, d) for d in items]
    return shown


def tag_list(ctx: Context, params: Params) -> list[Any]:
    query = _text(params, "query").strip()
    tags = sorted({str(k) for d in visible(ctx) for k in d.keywords if query in str(k)})
    if _bool(params, "all_fields"):
        return [{"id": t, "name": t, "display_name": t, "vocabulary_id": None} for t in tags]
    return tags


ACTIONS: dict[str, Callable[[Context, Params], Any]] = {
    "status_show": status_show,
    "package_list": package_list,
    "package_show": package_show,
    "package_search": package_search,
    "resource_show": resource_show,
    "organization_list": organization_list,
    "organization_show": organization_show,
    "group_list": group_list,
    "group_show": group_show,
    "tag_list": tag_list,
}


def call(ctx: Context, name: str, params: Params) -> Any:
    """Run one action; unknown actions and write actions answer as CKAN does."""
    action = ACTIONS.get(name)
    if action is None:
        if WRITE_ACTION.search(name):
            raise CkanError(
                "Authorization Error", 403, "Access denied: this catalog's action API is read-only"
            )
        raise CkanError("Bad Request", 400, f"Bad request - Action name not known: {name[:80]}")
    return action(ctx, params)
