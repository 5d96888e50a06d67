"""DCAT-AP 3 graphs of the catalog and of each dataset, built with rdflib.

Literals carry ``@zh`` and ``@en`` tags; themes, frequencies, licences, formats and access
rights are the EU authority tables' IRIs (``open_portal.vocabularies``), each typed as DCAT-AP
expects so the graph validates against the official DCAT-AP 3.0.1 SHACL shapes. Nothing is
written with an empty value: a field the owner left empty is left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, SKOS, XSD

from open_portal import vocabularies
from open_portal.models import Dataset, Release

VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
PDS = Namespace("https://pds.example/ns#")
DCAT_VERSION = URIRef("http://www.w3.org/ns/dcat#version")  # DCAT 3, not in rdflib's DCAT
# what each serialization is asked for by (content negotiation) and named by (file suffix)
FORMATS = {
    "jsonld": ("application/ld+json", "json-ld"),
    "ttl": ("text/turtle", "turtle"),
    "rdf": ("application/rdf+xml", "xml"),
    "xml": ("application/rdf+xml", "xml"),
}
PARQUET_MEDIA_TYPE = "https://www.iana.org/assignments/media-types/application/vnd.apache.parquet"
YEAR_RANGE = re.compile(r"^\s*(\d{4})\s*(?:[/-]\s*(\d{4}))?\s*$")


@dataclass(frozen=True)
class CatalogInfo:
    """What describes the catalog itself."""

    base: str  # the portal's public address, without a trailing slash
    title_zh: str = "公共数据沙箱 · 开放数据目录"
    title_en: str = "Public Data Sandbox open data catalog"
    description_zh: str = "公共数据开放与授权运营平台的数据目录，按开放类别和分级列出数据集。"
    description_en: str = (
        "The catalog of a platform for opening public data and for authorized operation on it, "
        "listing datasets by open class and level."
    )
    publisher_zh: str = "公共数据沙箱平台"
    publisher_en: str = "Public Data Sandbox platform"


def new_graph() -> Graph:
    graph = Graph()
    for prefix, ns in {
        "dcat": DCAT,
        "dct": DCTERMS,
        "foaf": FOAF,
        "skos": SKOS,
        "vcard": VCARD,
        "spdx": SPDX,
        "hydra": HYDRA,
        "pds": PDS,
    }.items():
        graph.bind(prefix, ns)
    return graph


def _bilingual(graph: Graph, node: URIRef | BNode, prop: URIRef, zh: str, en: str) -> None:
    for text, lang in ((zh, "zh"), (en, "en")):
        if text.strip():
            graph.add((node, prop, Literal(text.strip(), lang=lang)))


def _concept(graph: Graph, term: vocabularies.Term, kind: URIRef | None = None) -> URIRef:
    """The term's IRI, typed as a SKOS concept of its scheme with both labels."""
    iri = URIRef(term.iri)
    scheme = URIRef(term.scheme_iri)
    graph.add((iri, RDF.type, SKOS.Concept))
    if kind is not None:
        graph.add((iri, RDF.type, kind))
    graph.add((iri, SKOS.inScheme, scheme))
    _bilingual(graph, iri, SKOS.prefLabel, term.zh, term.en)
    graph.add((scheme, RDF.type, SKOS.ConceptScheme))
    graph.add((scheme, DCTERMS.title, Literal(term.scheme, lang="en")))
    return iri


def _agent(graph: Graph, iri: str, name_zh: str, name_en: str, identifier: str) -> URIRef:
    node = URIRef(iri)
    graph.add((node, RDF.type, FOAF.Agent))
    _bilingual(graph, node, FOAF.name, name_zh or identifier, name_en or identifier)
    graph.add((node, DCTERMS.identifier, Literal(identifier)))
    return node


def _period(graph: Graph, text: str) -> BNode | None:
    """``2000/2026`` or ``2026`` as a ``dct:PeriodOfTime`` with start and end years."""
    match = YEAR_RANGE.match(text)
    if not match:
        return None
    node = BNode()
    graph.add((node, RDF.type, DCTERMS.PeriodOfTime))
    start, end = match.group(1), match.group(2) or match.group(1)
    graph.add((node, DCAT.startDate, Literal(start, datatype=XSD.gYear)))
    graph.add((node, DCAT.endDate, Literal(end, datatype=XSD.gYear)))
    return node


def _time(value: datetime) -> Literal:
    return Literal(value.replace(microsecond=0).isoformat(), datatype=XSD.dateTime)


def dataset_iri(base: str, dataset_id: str) -> URIRef:
    """The dataset's IRI: its DCAT record (the page about it is its ``dcat:landingPage``)."""
    return URIRef(f"{base}/dcat/datasets/{dataset_id}")


def add_dataset(graph: Graph, dataset: Dataset, release: Release | None, *, base: str) -> URIRef:
    """Add one dataset, its publisher, contact point and distributions to ``graph``."""
    node = dataset_iri(base, dataset.id)
    graph.add((node, RDF.type, DCAT.Dataset))
    graph.add((node, DCTERMS.identifier, Literal(dataset.id)))
    _bilingual(graph, node, DCTERMS.title, dataset.title_zh, dataset.title_en)
    _bilingual(
        graph,
        node,
        DCTERMS.description,
        dataset.description_zh or dataset.title_zh,
        dataset.description_en or dataset.title_en,
    )
    for keyword in dataset.keywords:
        if str(keyword).strip():
            graph.add((node, DCAT.keyword, Literal(str(keyword).strip(), lang="zh")))
    publisher = _agent(
        graph,
        f"{base}/organizations/{dataset.publisher}",
        dataset.publisher_name_zh,
        dataset.publisher_name_en,
        dataset.publisher,
    )
    graph.add((node, DCTERMS.publisher, publisher))
    if dataset.contact.strip():
        contact = BNode()
        graph.add((contact, RDF.type, VCARD.Kind))
        _bilingual(
            graph,
            contact,
            VCARD.fn,
            dataset.publisher_name_zh or dataset.publisher,
            dataset.publisher_name_en or dataset.publisher,
        )
        address = dataset.contact.strip()
        if "@" in address:
            graph.add((contact, VCARD.hasEmail, URIRef(f"mailto:{address}")))
        else:
            graph.add((contact, VCARD.hasTelephone, Literal(address)))
        graph.add((node, DCAT.contactPoint, contact))
    if (theme := vocabularies.theme(dataset.theme)) is not None:
        graph.add((node, DCAT.theme, _concept(graph, theme)))
    if (frequency := vocabularies.frequency(dataset.update_frequency)) is not None:
        graph.add((node, DCTERMS.accrualPeriodicity, _concept(graph, frequency, DCTERMS.Frequency)))
    if (period := _period(graph, dataset.temporal_coverage)) is not None:
        graph.add((node, DCTERMS.temporal, period))
    if dataset.spatial_coverage.strip():
        place = BNode()
        graph.add((place, RDF.type, DCTERMS.Location))
        graph.add((place, SKOS.prefLabel, Literal(dataset.spatial_coverage.strip(), lang="zh")))
        graph.add((node, DCTERMS.spatial, place))
    graph.add((node, DCTERMS.issued, _time(dataset.issued)))
    graph.add((node, DCTERMS.modified, _time(dataset.modified)))
    if dataset.latest is not None:
        graph.add((node, DCAT_VERSION, Literal(str(dataset.latest.number))))
    access = vocabularies.ACCESS_RIGHTS[dataset.open_class.access_right]
    graph.add((node, DCTERMS.accessRights, _concept(graph, access, DCTERMS.RightsStatement)))
    landing = URIRef(f"{base}/datasets/{dataset.id}")
    graph.add((node, DCAT.landingPage, landing))
    graph.add((landing, RDF.type, FOAF.Document))
    graph.add((node, PDS.level, Literal(dataset.level.value)))
    for distribution in _distributions(graph, dataset, release, base=base):
        graph.add((node, DCAT.distribution, distribution))
    return node


def _distributions(
    graph: Graph, dataset: Dataset, release: Release | None, *, base: str
) -> list[URIRef]:
    """The open download (L1, once published), else access by application on the portal."""
    licence = vocabularies.licence(dataset.licence)
    made = []
    if release is not None:
        node = URIRef(f"{base}/datasets/{dataset.id}#release-{release.id}")
        url = URIRef(f"{base}/datasets/{dataset.id}/download")
        graph.add((node, RDF.type, DCAT.Distribution))
        graph.add((node, DCAT.accessURL, url))
        graph.add((node, DCAT.downloadURL, url))
        _bilingual(
            graph, node, DCTERMS.title, "开放下载（脱敏版本）", "Open download (desensitized)"
        )
        fmt = vocabularies.FILE_TYPES["PARQUET"]
        graph.add((node, DCTERMS["format"], _concept(graph, fmt, DCTERMS.MediaTypeOrExtent)))
        media = URIRef(PARQUET_MEDIA_TYPE)
        graph.add((media, RDF.type, DCTERMS.MediaType))
        graph.add((node, DCAT.mediaType, media))
        checksum = BNode()
        graph.add((checksum, RDF.type, SPDX.Checksum))
        graph.add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
        graph.add((SPDX.checksumAlgorithm_sha256, RDF.type, SPDX.ChecksumAlgorithm))
        graph.add((checksum, SPDX.checksumValue, Literal(release.sha256, datatype=XSD.hexBinary)))
        graph.add((node, SPDX.checksum, checksum))
        graph.add((node, DCTERMS.issued, _time(release.created_at)))
        made.append(node)
    else:
        node = URIRef(f"{base}/datasets/{dataset.id}#access")
        graph.add((node, RDF.type, DCAT.Distribution))
        graph.add((node, DCAT.accessURL, URIRef(f"{base}/datasets/{dataset.id}")))
        _bilingual(
            graph,
            node,
            DCTERMS.title,
            "申请使用（工作空间或差分隐私查询）",
            "Access by application (workspace or differentially private queries)",
        )
        _bilingual(
            graph,
            node,
            DCTERMS.description,
            "经数据提供方（L3 另需安全审核员）批准后，在隔离工作空间内使用。",
            "Used in an isolated workspace after approval by the data owner "
            "(and a security officer for L3).",
        )
        fmt = vocabularies.FILE_TYPES["HTML"]
        graph.add((node, DCTERMS["format"], _concept(graph, fmt, DCTERMS.MediaTypeOrExtent)))
        made.append(node)
    if licence is not None:
        for node in made:
            graph.add((node, DCTERMS.license, _concept(graph, licence, DCTERMS.LicenseDocument)))
    return made


def dataset_graph(dataset: Dataset, release: Release | None, *, base: str) -> Graph:
    graph = new_graph()
    add_dataset(graph, dataset, release, base=base)
    return graph


@dataclass(frozen=True)
class Page:
    """One page of the catalog (ckanext-dcat's hydra paging)."""

    number: int
    size: int
    total: int

    @property
    def last(self) -> int:
        return max(1, -(-self.total // self.size))


def catalog_graph(
    info: CatalogInfo,
    datasets: list[tuple[Dataset, Release | None]],
    *,
    page: Page,
    fmt: str,
) -> Graph:
    """The catalog with one page of its datasets, and hydra links to the other pages."""
    graph = new_graph()
    base = info.base
    catalog = URIRef(f"{base}/dcat/catalog")
    graph.add((catalog, RDF.type, DCAT.Catalog))
    _bilingual(graph, catalog, DCTERMS.title, info.title_zh, info.title_en)
    _bilingual(graph, catalog, DCTERMS.description, info.description_zh, info.description_en)
    platform = _agent(
        graph, f"{base}/organizations/platform", info.publisher_zh, info.publisher_en, "platform"
    )
    graph.add((catalog, DCTERMS.publisher, platform))
    homepage = URIRef(f"{base}/catalog")
    graph.add((catalog, FOAF.homepage, homepage))
    graph.add((homepage, RDF.type, FOAF.Document))
    taxonomy = URIRef(vocabularies.AUTHORITY + "data-theme")
    graph.add((catalog, DCAT.themeTaxonomy, taxonomy))
    graph.add((taxonomy, RDF.type, SKOS.ConceptScheme))
    graph.add((taxonomy, DCTERMS.title, Literal("data-theme", lang="en")))
    for dataset, release in datasets:
        graph.add((catalog, DCAT.dataset, add_dataset(graph, dataset, release, base=base)))
    if page.total > page.size:
        paging = URIRef(f"{base}/dcat/catalog.{fmt}?page={page.number}")
        graph.add((paging, RDF.type, HYDRA.PagedCollection))
        graph.add((paging, HYDRA.totalItems, Literal(page.total)))
        graph.add((paging, HYDRA.itemsPerPage, Literal(page.size)))
        links = {
            HYDRA.firstPage: 1,
            HYDRA.lastPage: page.last,
            HYDRA.previousPage: page.number - 1 if page.number > 1 else None,
            HYDRA.nextPage: page.number + 1 if page.number < page.last else None,
        }
        for prop, number in links.items():
            if number is not None:
                graph.add((paging, prop, Literal(f"{base}/dcat/catalog.{fmt}?page={number}")))
    return graph


def serialize(graph: Graph, fmt: str) -> tuple[bytes, str]:
    """The graph in one of ``FORMATS``, and its media type."""
    media_type, rdflib_format = FORMATS[fmt]
    context = {
        prefix: str(ns) for prefix, ns in graph.namespaces() if prefix in NAMESPACES_IN_CONTEXT
    }
    if rdflib_format == "json-ld":
        data = graph.serialize(format="json-ld", context=context, auto_compact=True)
    else:
        data = graph.serialize(format=rdflib_format)
    return data.encode("utf-8"), media_type


NAMESPACES_IN_CONTEXT = {"dcat", "dct", "foaf", "skos", "vcard", "spdx", "hydra", "pds", "xsd"}


def negotiate(accept: str) -> str | None:
    """The format a client's ``Accept`` header asks for (JSON-LD when it does not care)."""
    if not accept.strip() or "*/*" in accept:
        return "jsonld"
    for part in accept.split(","):
        media = part.split(";")[0].strip().lower()
        for fmt, (media_type, _) in FORMATS.items():
            if media == media_type:
                return fmt
        if media in ("application/json", "application/*"):
            return "jsonld"
    return None
