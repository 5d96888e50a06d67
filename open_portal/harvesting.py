"""Read another catalog: a DCAT-AP catalog (any RDF format, hydra paging) or a CKAN action API.

Only metadata is read, from the source's own origin: paging links that point elsewhere are
refused. Anything that is not what a catalog answers (a server error, HTML, JSON of another
shape, RDF without datasets, too many bytes or pages) raises :class:`HarvestError` with a
message for the admin page, so the caller keeps the catalog as it was.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, SKOS

from open_portal import vocabularies
from open_portal.models import SourceKind

HYDRA_NEXT = URIRef("http://www.w3.org/ns/hydra/core#nextPage")
MAX_BYTES = 20 * 1024 * 1024
MAX_PAGES = 100
CKAN_ROWS = 500
TIMEOUT = 60.0  # seconds to connect and between bytes; harvests run in the background
RDF_ACCEPT = "text/turtle, application/rdf+xml;q=0.9, application/ld+json;q=0.8"
RDF_FORMATS = {
    "text/turtle": "turtle",
    "application/x-turtle": "turtle",
    "application/rdf+xml": "xml",
    "application/xml": "xml",
    "text/xml": "xml",
    "application/ld+json": "json-ld",
    "application/json": "json-ld",
    "application/n-triples": "nt",
}


class HarvestError(Exception):
    """The source could not be read as a catalog; nothing was changed."""

    def __init__(self, message: str, *, zh: str) -> None:
        super().__init__(message)
        self.message_zh = zh

    def bilingual(self) -> str:
        return f"{self.message_zh} / {self}"


@dataclass(frozen=True)
class RemoteDataset:
    """The metadata of one dataset of a source."""

    remote_id: str
    title_zh: str
    title_en: str
    landing_url: str
    description: str = ""
    publisher: str = ""
    theme: str = ""
    keywords: tuple[str, ...] = field(default_factory=tuple)
    modified: str = ""


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def check_url(url: str) -> str:
    """An absolute http(s) URL, or :class:`HarvestError`."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise HarvestError(
            "the source must be an http:// or https:// address",
            zh="来源地址须以 http:// 或 https:// 开头",
        )
    if len(url) > 512:
        raise HarvestError(
            "the source address is longer than 512 characters", zh="来源地址超过 512 个字符"
        )
    return url.strip()


def _get(client: httpx.Client, url: str, accept: str) -> httpx.Response:
    try:
        with client.stream("GET", url, headers={"accept": accept}) as response:
            body = b""
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_BYTES:
                    raise HarvestError(
                        f"the source sent more than {MAX_BYTES} bytes",
                        zh=f"来源返回超过 {MAX_BYTES} 字节",
                    )
            if 300 <= response.status_code < 400:
                where = response.headers.get("location", "")[:200]
                raise HarvestError(
                    f"the source redirects to {where}; register that address",
                    zh=f"来源重定向到 {where}，请登记该地址",
                )
            if response.status_code >= 400:
                raise HarvestError(
                    f"the source answered HTTP {response.status_code}",
                    zh=f"来源返回 HTTP {response.status_code}",
                )
            return httpx.Response(
                response.status_code,
                headers=response.headers,
                content=body,
                request=response.request,
            )
    except httpx.HTTPError as exc:
        raise HarvestError(
            f"the source cannot be reached: {type(exc).__name__}", zh="无法连接来源"
        ) from None


def safe_link(url: str, fallback: str) -> str:
    """``url`` if it is an http(s) address (never ``javascript:`` and the like), else ``fallback``."""
    parts = urlsplit(url)
    ok = parts.scheme in ("http", "https") and bool(parts.netloc) and len(url) <= 1024
    return url if ok else fallback


def _text(graph: Graph, node: URIRef, prop: URIRef, lang: str) -> str:
    """The node's literal in ``lang`` (``zh`` takes zh-*), else any, else ''."""
    values = [o for o in graph.objects(node, prop) if isinstance(o, Literal)]
    for value in values:
        if (value.language or "").lower().split("-")[0] == lang:
            return str(value).strip()
    plain = [v for v in values if not v.language]
    return str((plain or values)[0]).strip() if values else ""


def datasets_of_graph(graph: Graph, source_url: str) -> list[RemoteDataset]:
    found = []
    for node in sorted(set(graph.subjects(predicate=None, object=DCAT.Dataset)), key=str):
        if not isinstance(node, URIRef):
            continue
        identifier = _text(graph, node, DCTERMS.identifier, "zh") or str(node)
        landing = graph.value(node, DCAT.landingPage)
        title_zh = _text(graph, node, DCTERMS.title, "zh")
        title_en = _text(graph, node, DCTERMS.title, "en")
        if not (title_zh or title_en):
            continue
        publisher = graph.value(node, DCTERMS.publisher)
        theme = graph.value(node, DCAT.theme)
        term = vocabularies.theme(str(theme).rsplit("/", 1)[-1]) if theme is not None else None
        if term is None and theme is not None:
            term_label = _text(graph, theme, SKOS.prefLabel, "zh")  # type: ignore[arg-type]
        else:
            term_label = term.zh if term else ""
        found.append(
            RemoteDataset(
                remote_id=identifier[:256],
                title_zh=(title_zh or title_en)[:512],
                title_en=(title_en or title_zh)[:512],
                landing_url=safe_link(str(landing if landing is not None else node), source_url),
                description=_text(graph, node, DCTERMS.description, "zh")[:4000],
                publisher=(
                    _text(graph, publisher, FOAF.name, "zh")[:256]
                    if isinstance(publisher, URIRef)
                    else ""
                ),
                theme=term_label[:128],
                keywords=tuple(str(k)[:64] for k in graph.objects(node, DCAT.keyword))[:50],
                modified=str(graph.value(node, DCTERMS.modified) or "")[:64],
            )
        )
    return found


def read_dcat(client: httpx.Client, url: str) -> list[RemoteDataset]:
    """Every dataset of a DCAT catalog, following hydra ``nextPage`` links on the same origin."""
    found: dict[str, RemoteDataset] = {}
    seen: set[str] = set()
    next_url: str | None = url
    while next_url is not None:
        if len(seen) >= MAX_PAGES:
            raise HarvestError(
                f"the catalog has more than {MAX_PAGES} pages", zh=f"目录超过 {MAX_PAGES} 页"
            )
        seen.add(next_url)
        response = _get(client, next_url, RDF_ACCEPT)
        media = response.headers.get("content-type", "").split(";")[0].strip().lower()
        rdf_format = RDF_FORMATS.get(media)
        if rdf_format is None:
            raise HarvestError(
                f"the source answered {media or 'no content type'}, not RDF",
                zh="来源返回的不是 RDF",
            )
        graph = Graph()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter(
                    "ignore"
                )  # rdflib's JSON-LD parser warns of its own internals
                graph.parse(data=response.content, format=rdf_format, publicID=next_url)
        except Exception as exc:  # rdflib raises many kinds on malformed input
            raise HarvestError(
                f"the source's {rdf_format} cannot be read: {type(exc).__name__}",
                zh="无法解析来源的 RDF",
            ) from None
        page = datasets_of_graph(graph, url)
        if not page and not found:
            raise HarvestError("the source's RDF has no dcat:Dataset", zh="来源的 RDF 中没有数据集")
        for item in page:
            found.setdefault(item.remote_id, item)
        following = [str(o) for o in graph.objects(None, HYDRA_NEXT)]
        next_url = urljoin(next_url, following[0]) if following else None
        if next_url is not None:
            if _origin(next_url) != _origin(url):
                raise HarvestError(
                    "the catalog's next page is on another site", zh="目录的下一页在其他站点"
                )
            if next_url in seen:
                next_url = None
    return list(found.values())


def _ckan_base(url: str) -> str:
    """The site of a CKAN API address given as the site, ``/api/3/action/…`` or ``/api/action``."""
    base = url.rstrip("/")
    for marker in ("/api/3/action", "/api/action", "/api/3", "/api"):
        if marker in base:
            return base[: base.index(marker)]
    return base


def read_ckan(client: httpx.Client, url: str) -> list[RemoteDataset]:
    """Every dataset of a CKAN site, through ``package_search`` pages."""
    site = _ckan_base(url)
    found: dict[str, RemoteDataset] = {}
    start = 0
    for _ in range(MAX_PAGES):
        response = _get(
            client,
            f"{site}/api/3/action/package_search?rows={CKAN_ROWS}&start={start}",
            "application/json",
        )
        try:
            body = response.json()
            result = body["result"] if body.get("success") else {}
            count, packages = int(result["count"]), list(result["results"])
        except (ValueError, KeyError, TypeError, AttributeError):
            raise HarvestError(
                "the source did not answer as a CKAN action API", zh="来源的应答不是 CKAN 接口"
            ) from None
        for package in packages:
            item = _from_package(package, site)
            if item is not None:
                found.setdefault(item.remote_id, item)
        start += len(packages)
        if not packages or start >= count:
            return list(found.values())
    raise HarvestError(
        f"the catalog has more than {MAX_PAGES * CKAN_ROWS} datasets",
        zh=f"目录超过 {MAX_PAGES * CKAN_ROWS} 个数据集",
    )


def _from_package(package: object, site: str) -> RemoteDataset | None:
    if not isinstance(package, dict) or not isinstance(package.get("name"), str):
        return None
    name = package["name"]
    title = str(package.get("title") or name)
    organization = package.get("organization") or {}
    groups = package.get("groups") or []
    tags = package.get("tags") or []
    url = package.get("url")
    landing = url if isinstance(url, str) else ""
    return RemoteDataset(
        remote_id=name[:256],
        title_zh=title[:512],
        title_en=str(package.get("title_en") or title)[:512],
        landing_url=safe_link(landing or f"{site}/dataset/{name}", site),
        description=str(package.get("notes") or "")[:4000],
        publisher=str(organization.get("title") or "")[:256]
        if isinstance(organization, dict)
        else "",
        theme=str(groups[0].get("name") or "")[:128]
        if groups and isinstance(groups[0], dict)
        else "",
        keywords=tuple(str(t.get("name"))[:64] for t in tags if isinstance(t, dict))[:50],
        modified=str(package.get("metadata_modified") or "")[:64],
    )


def read_source(url: str, kind: SourceKind) -> list[RemoteDataset]:
    """Every dataset the source lists now."""
    url = check_url(url)
    with httpx.Client(timeout=TIMEOUT, follow_redirects=False) as client:
        if kind is SourceKind.CKAN:
            return read_ckan(client, url)
        return read_dcat(client, url)
