"""The catalog read by the open-data world's programs: ckanapi unchanged, DCAT-AP 3 that validates.

The portal (with the demo catalog, its published L1 release included) is served over real HTTP by
uvicorn, and read with ckanapi's ``RemoteCKAN`` in its POST and ``get_only`` modes; the DCAT-AP
output is validated with pySHACL against the official DCAT-AP 3.0.1 shapes.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ckanapi
import httpx
import pytest
from factories import add_dataset, portal_at
from pyshacl import validate
from rdflib import Graph, Literal
from rdflib.namespace import DCAT, DCTERMS, RDF, SH
from served import portal_app, served

from open_portal import demo
from open_portal.models import Level

PREFIX = "/services/portal"
SHAPES = Path(__file__).resolve().parents[2] / "data" / "dcat-ap-3.0.1"
PUBLIC = {"enterprise-registrations", "hotline-tickets", "social-insurance-payments"}


def http_get(url: str, **kwargs: Any) -> httpx.Response:
    """A GET with a timeout for a busy machine (building a catalog can take seconds)."""
    return httpx.get(url, timeout=120, **kwargs)


def http_post(url: str, **kwargs: Any) -> httpx.Response:
    return httpx.post(url, timeout=120, **kwargs)


@pytest.fixture(scope="module")
def portal_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo catalog (plus an L4 dataset) on a real HTTP server."""
    tmp = tmp_path_factory.mktemp("ckan")
    with portal_at(tmp / "data", f"sqlite:///{tmp / 'p.sqlite'}") as portal:
        demo.ensure_demo_data(portal)
        add_dataset(portal, "secret-l4", Level.L4, publisher="traffic")
        with served(portal_app(portal, PREFIX)) as url:
            yield url + PREFIX


@pytest.fixture(params=["post", "get_only"])
def remote(request: pytest.FixtureRequest, portal_url: str) -> ckanapi.RemoteCKAN:
    return ckanapi.RemoteCKAN(portal_url, get_only=request.param == "get_only")


def test_every_read_action_works_through_ckanapi(remote: ckanapi.RemoteCKAN) -> None:
    status = remote.action.status_show()
    assert status["ckan_version"].startswith("2.")
    names = remote.action.package_list()
    assert set(names) == {
        "enterprise-registrations",
        "hotline-tickets",
        "social-insurance-payments",
    }
    package = remote.action.package_show(id="enterprise-registrations")
    assert package["level"] == "L1"
    formats = [r["format"] for r in package["resources"]]
    assert formats == ["Parquet", "JSON-LD", "JSON"]
    for resource in package["resources"]:
        assert remote.action.resource_show(id=resource["id"]) == resource
    restricted = remote.action.package_show(id="hotline-tickets")
    assert [r["format"] for r in restricted["resources"]] == ["JSON-LD"]

    orgs = remote.action.organization_list()
    assert sorted(orgs) == sorted({"market", "hotline", "hrss"})
    full = remote.action.organization_list(all_fields=True)
    assert {o["name"]: o["package_count"] for o in full} == {"market": 1, "hotline": 1, "hrss": 1}
    org = remote.action.organization_show(id="market", include_datasets=True)
    assert [p["name"] for p in org["packages"]] == ["enterprise-registrations"]

    groups = remote.action.group_list()
    assert groups and all(isinstance(g, str) for g in groups)
    shown = remote.action.group_show(id=groups[0])
    assert shown["package_count"] >= 1
    assert remote.action.group_list(all_fields=True)[0]["dcat_theme"].startswith("http")
    tags = remote.action.tag_list()
    assert tags == sorted(tags) and tags


def test_package_search_as_ckan_clients_use_it(remote: ckanapi.RemoteCKAN) -> None:
    everything = remote.action.package_search(q="*:*", rows=1000)
    assert everything["count"] == 3
    assert {p["name"] for p in everything["results"]} == PUBLIC
    faceted = remote.action.package_search(
        fq="organization:market", **{"facet.field": '["level","organization"]', "facet.limit": 5}
    )
    assert faceted["count"] == 1
    assert faceted["facets"]["level"] == {"L1": 1}
    assert faceted["search_facets"]["organization"]["items"][0]["name"] == "market"
    first = remote.action.package_search(rows=2, start=0, sort="name asc")
    second = remote.action.package_search(rows=2, start=2, sort="name asc")
    assert [p["name"] for p in first["results"] + second["results"]] == sorted(PUBLIC)
    assert remote.action.package_search(fq='res_format:"Parquet"')["count"] == 1
    assert remote.action.package_search(fq="level:L4")["count"] == 0


@pytest.mark.parametrize(
    ("action", "params", "error"),
    [
        ("package_show", {"id": "secret-l4"}, ckanapi.NotFound),
        ("package_show", {"id": "no-such-dataset"}, ckanapi.NotFound),
        ("resource_show", {"id": "secret-l4-dcat"}, ckanapi.NotFound),
        ("organization_show", {"id": "traffic"}, ckanapi.NotFound),
        ("group_show", {"id": "no-such-group"}, ckanapi.NotFound),
        ("package_show", {}, ckanapi.ValidationError),
        ("package_search", {"rows": "many"}, ckanapi.ValidationError),
        ("package_search", {"rows": 5000}, ckanapi.ValidationError),
        ("package_search", {"sort": "price desc"}, ckanapi.ValidationError),
        ("package_search", {"fq": "colour:red"}, ckanapi.ValidationError),
        ("package_search", {"facet.field": '["owner"]'}, ckanapi.ValidationError),
        ("organization_list", {"all_fields": "perhaps"}, ckanapi.ValidationError),
        ("package_create", {"name": "x"}, ckanapi.NotAuthorized),
    ],
)
def test_errors_come_back_as_ckan_errors(
    remote: ckanapi.RemoteCKAN, action: str, params: dict[str, object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        remote.call_action(action, params)


def test_hidden_and_unknown_datasets_answer_alike(portal_url: str) -> None:
    hidden = http_get(f"{portal_url}/api/action/package_show", params={"id": "secret-l4"})
    unknown = http_get(f"{portal_url}/api/action/package_show", params={"id": "secret-l5"})
    assert hidden.status_code == unknown.status_code == 404
    assert (
        hidden.json()["error"]
        == unknown.json()["error"]
        == {
            "__type": "Not Found Error",
            "message": "Not found: Dataset",
        }
    )


def test_unknown_action_and_bad_bodies(portal_url: str) -> None:
    unknown = http_get(f"{portal_url}/api/3/action/package_dance")
    assert unknown.status_code == 400 and unknown.json()["success"] is False
    for body in (b"{not json", b"[1, 2]", b'"text"'):
        response = http_post(
            f"{portal_url}/api/action/package_show",
            content=body,
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 400, body
        assert response.json()["error"]["__type"] == "Bad Request"
    form = http_post(
        f"{portal_url}/api/action/package_show", data={"id": "enterprise-registrations"}
    )
    assert form.status_code == 200 and form.json()["result"]["name"] == "enterprise-registrations"
    huge = http_post(f"{portal_url}/api/action/package_search", json={"q": "x" * 100_000})
    assert huge.status_code == 400


def parse(text: str, rdf_format: str) -> Graph:
    with warnings.catch_warnings():
        # rdflib's own JSON-LD parser builds a ConjunctiveGraph, which rdflib 7.6 deprecates
        warnings.filterwarnings("ignore", "ConjunctiveGraph is deprecated", DeprecationWarning)
        return Graph().parse(data=text, format=rdf_format)


def shacl(graph: Graph) -> tuple[bool, str]:
    shapes = Graph()
    for name in ("dcat-ap-SHACL.ttl", "ranges.ttl"):
        shapes.parse(SHAPES / name)
    # ranges.ttl of 3.0.1 names one property shape it never defines; pySHACL refuses a shape
    # without a body, so that one dangling reference is dropped (every defined shape is kept)
    for node, _, shape in list(shapes.triples((None, SH.property, None))):
        if (shape, None, None) not in shapes:
            shapes.remove((node, SH.property, shape))
    conforms, _, text = validate(graph, shacl_graph=shapes, inference="none", abort_on_first=False)
    return bool(conforms), str(text)


@pytest.mark.parametrize(
    ("suffix", "accept", "media_type", "rdf_format"),
    [
        ("jsonld", "", "application/ld+json", "json-ld"),
        ("ttl", "", "text/turtle", "turtle"),
        ("rdf", "", "application/rdf+xml", "xml"),
        ("", "text/turtle", "text/turtle", "turtle"),
        ("", "application/rdf+xml;q=0.9", "application/rdf+xml", "xml"),
        ("", "application/ld+json", "application/ld+json", "json-ld"),
    ],
)
def test_the_catalog_in_dcat_ap_3_validates(
    portal_url: str, suffix: str, accept: str, media_type: str, rdf_format: str
) -> None:
    url = f"{portal_url}/dcat/catalog" + (f".{suffix}" if suffix else "")
    response = http_get(url, headers={"accept": accept} if accept else {})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media_type)
    graph = parse(response.text, rdf_format)
    datasets = set(graph.subjects(RDF.type, DCAT.Dataset))
    assert {str(d).rsplit("/", 1)[1] for d in datasets} == PUBLIC
    conforms, report = shacl(graph)
    assert conforms, report
    # both languages, tagged; no empty literal anywhere
    titles = {(t.language, str(t)) for d in datasets for t in graph.objects(d, DCTERMS.title)}
    assert {lang for lang, _ in titles} == {"zh", "en"}
    assert all(str(o).strip() for o in graph.objects() if isinstance(o, Literal))


def test_each_dataset_record_validates_and_hidden_ones_do_not_exist(portal_url: str) -> None:
    for name in sorted(PUBLIC):
        response = http_get(f"{portal_url}/dcat/datasets/{name}.ttl")
        assert response.status_code == 200
        graph = Graph().parse(data=response.text, format="turtle")
        conforms, report = shacl(graph)
        assert conforms, report
    assert http_get(f"{portal_url}/dcat/datasets/secret-l4.ttl").status_code == 404
    assert http_get(f"{portal_url}/dcat/datasets/enterprise-registrations.csv").status_code == 422
    assert (
        http_get(f"{portal_url}/dcat/catalog", headers={"accept": "image/png"}).status_code == 422
    )
    old = http_get(
        f"{portal_url}/datasets/enterprise-registrations/dcat.jsonld", follow_redirects=True
    )
    assert old.status_code == 200 and old.headers["content-type"].startswith("application/ld+json")


def test_an_invalid_record_is_caught_by_the_shapes(portal_url: str) -> None:
    """The validation can fail: a dataset without a title breaks DCAT-AP's shapes."""
    graph = Graph().parse(data=http_get(f"{portal_url}/dcat/catalog.ttl").text, format="turtle")
    dataset = next(iter(graph.subjects(RDF.type, DCAT.Dataset)))
    graph.remove((dataset, DCTERMS.title, None))
    conforms, _ = shacl(graph)
    assert not conforms
