"""Federation: another catalog, served over real HTTP, is harvested into this one.

The source is a second portal with the demo catalog (read as DCAT-AP and as CKAN), and a source
that can be switched to every kind of bad answer: a failed harvest must leave the catalog as it
was, and a second harvest must change nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from factories import portal_at
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from served import portal_app, served
from sqlalchemy import select

from open_portal import demo
from open_portal.models import HarvestedDataset, HarvestSource, HarvestStatus
from open_portal.service import harvest
from open_portal.service.context import Portal
from policies import AccessDenied

PREFIX = "/services/portal"
ROOT = Path(__file__).resolve().parents[3]
DEMO_TITLES = {"企业登记信息", "12345 政务服务热线工单", "社会保险缴费记录"}


def http_get(url: str, **kwargs: Any) -> httpx.Response:
    """A GET with a timeout for a busy machine (building a catalog can take seconds)."""
    return httpx.get(url, timeout=120, **kwargs)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second deployment's portal with the demo catalog, over HTTP."""
    tmp = tmp_path_factory.mktemp("source")
    with portal_at(tmp / "data", f"sqlite:///{tmp / 's.sqlite'}") as other:
        demo.ensure_demo_data(other)
        with served(portal_app(other, PREFIX)) as url:
            yield url + PREFIX


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[Portal]:
    with portal_at(tmp_path / "data", f"sqlite:///{tmp_path / 'p.sqlite'}") as here:
        yield here


class Switchable:
    """A source that answers a saved good catalog, or one kind of garbage."""

    def __init__(self, good: str) -> None:
        self.good, self.mode = good, "good"
        self.app = FastAPI()
        self.app.add_api_route("/catalog", self.answer)

    async def answer(self, request: Request) -> Response:
        bad: dict[str, Response] = {
            "html": Response("<html>maintenance</html>", media_type="text/html"),
            "error": PlainTextResponse("down", status_code=503),
            "broken": Response(self.good[: len(self.good) // 2], media_type="text/turtle"),
            "empty": Response("", media_type="text/turtle"),
            "other rdf": Response(
                "<http://x/a> <http://x/b> <http://x/c> .", media_type="text/turtle"
            ),
            "json": Response('{"success": true}', media_type="application/json"),
            "redirect": Response(status_code=302, headers={"location": "http://127.0.0.1:9/x"}),
            # a title with a NUL character, which no database column keeps
            "nul": Response(
                self.good.replace("企业登记信息", "企业登记\\u0000信息"), media_type="text/turtle"
            ),
            "elsewhere": Response(
                self.good
                + '\n<http://x/p> <http://www.w3.org/ns/hydra/core#nextPage> "http://127.0.0.2:9/p2" .',
                media_type="text/turtle",
            ),
        }
        if self.mode == "good":
            return Response(self.good, media_type="text/turtle")
        return bad[self.mode]


def snapshot(portal: Portal) -> list[tuple[object, ...]]:
    with portal.sessions() as session:
        rows = session.scalars(select(HarvestedDataset).order_by(HarvestedDataset.id)).all()
        return [
            (r.id, r.source_id, r.remote_id, r.title_zh, r.title_en, r.landing_url, r.keywords)
            for r in rows
        ]


def test_a_dcat_catalog_is_harvested_with_links_back(portal: Portal, source: str) -> None:
    registered = harvest.register_source(
        portal, actor="admin", url=f"{source}/dcat/catalog.ttl", kind="dcat", title="杭州市"
    )
    done = harvest.harvest(portal, actor="admin", source_id=registered.id)
    assert done.status is HarvestStatus.OK and done.dataset_count == 3
    rows = snapshot(portal)
    assert {r[3] for r in rows} == DEMO_TITLES
    assert all(str(r[5]).startswith(source + "/datasets/") for r in rows)
    for landing in (r[5] for r in rows):
        assert http_get(str(landing)).status_code == 200  # the link back works

    again = harvest.harvest(portal, actor="admin", source_id=registered.id)
    assert again.status is HarvestStatus.OK
    assert snapshot(portal) == rows  # harvesting twice changes nothing
    changes = [
        e.details["changed"] for _, e in portal.audit.entries() if e.type == "harvest.completed"
    ]
    assert changes == [3, 0]


def test_a_ckan_site_is_harvested_alike(portal: Portal, source: str) -> None:
    registered = harvest.register_source(
        portal, actor="admin", url=source, kind="ckan", title="CKAN"
    )
    done = harvest.harvest(portal, actor="admin", source_id=registered.id)
    assert done.status is HarvestStatus.OK, done.message
    assert {r[3] for r in snapshot(portal)} == DEMO_TITLES


@pytest.mark.parametrize(
    "mode",
    ["html", "error", "broken", "empty", "other rdf", "json", "redirect", "elsewhere", "nul"],
)
def test_a_bad_answer_is_reported_and_loses_nothing(portal: Portal, source: str, mode: str) -> None:
    switch = Switchable(http_get(f"{source}/dcat/catalog.ttl").text)
    with served(switch.app) as url:
        registered = harvest.register_source(
            portal, actor="admin", url=f"{url}/catalog", kind="dcat", title="switch"
        )
        assert harvest.harvest(portal, actor="admin", source_id=registered.id).status is (
            HarvestStatus.OK
        )
        before = snapshot(portal)
        switch.mode = mode
        failed = harvest.harvest(portal, actor="admin", source_id=registered.id)
    assert failed.status is HarvestStatus.FAILED
    assert " / " in failed.message and failed.message.strip()  # Chinese / English
    assert snapshot(portal) == before
    assert [e.type for _, e in portal.audit.entries()][-1] == "harvest.failed"


def test_a_source_that_is_down_is_reported(portal: Portal) -> None:
    registered = harvest.register_source(
        portal, actor="admin", url="http://127.0.0.1:9/catalog", kind="ckan", title="down"
    )
    failed = harvest.harvest(portal, actor="admin", source_id=registered.id)
    assert failed.status is HarvestStatus.FAILED and "无法连接来源" in failed.message


def test_only_admins_register_and_harvest(portal: Portal, source: str) -> None:
    for actor in ("researcher", "owner", "officer", ""):
        with pytest.raises(AccessDenied):
            harvest.register_source(portal, actor=actor, url=source, kind="ckan", title="x")
    registered = harvest.register_source(portal, actor="admin", url=source, kind="ckan", title="x")
    with pytest.raises(AccessDenied):
        harvest.harvest(portal, actor="researcher", source_id=registered.id)


@pytest.mark.parametrize(
    ("url", "kind", "title"),
    [
        ("ftp://example.org/catalog", "dcat", "x"),
        ("javascript:alert(1)", "dcat", "x"),
        ("http://example.org/" + "a" * 600, "dcat", "x"),
        ("http://example.org/catalog", "sparql", "x"),
        ("http://example.org/catalog", "dcat", ""),
        ("http://example.org/catalog", "dcat", "x" * 300),
    ],
)
def test_bad_registrations_are_refused(portal: Portal, url: str, kind: str, title: str) -> None:
    from open_portal.exceptions import InvalidInput

    with pytest.raises(InvalidInput):
        harvest.register_source(portal, actor="admin", url=url, kind=kind, title=title)
    with portal.sessions() as session:
        assert session.scalars(select(HarvestSource)).all() == []


def test_links_back_are_only_web_addresses(portal: Portal) -> None:
    evil = """@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> .
<javascript:alert(document.cookie)> a dcat:Dataset ; dct:title "陷阱"@zh ;
    dcat:landingPage <javascript:alert(1)> ."""
    app = FastAPI()
    app.add_api_route("/c", lambda: Response(evil, media_type="text/turtle"))
    with served(app) as url:
        registered = harvest.register_source(
            portal, actor="admin", url=f"{url}/c", kind="dcat", title="evil"
        )
        harvest.harvest(portal, actor="admin", source_id=registered.id)
    (row,) = snapshot(portal)
    assert row[5] == f"{url}/c"


def test_harvested_datasets_are_searched_and_faceted_on_the_catalog_page(
    portal: Portal, source: str
) -> None:
    registered = harvest.register_source(
        portal, actor="admin", url=f"{source}/dcat/catalog", kind="dcat", title="杭州市目录"
    )
    harvest.harvest(portal, actor="admin", source_id=registered.id)
    with served(portal_app(portal, PREFIX)) as here:
        page = http_get(f"{here}{PREFIX}/catalog", params={"q": "热线"}).text
        assert "12345 政务服务热线工单" in page and "杭州市目录" in page
        assert "企业登记信息" not in page
        assert f'href="{source}/datasets/hotline-tickets"' in page
        faceted = http_get(f"{here}{PREFIX}/catalog", params={"source": str(registered.id)})
        assert faceted.text.count('class="harvested-row"') == 3


def test_the_schedule_harvests_only_what_is_due(portal: Portal, source: str) -> None:
    registered = harvest.register_source(
        portal, actor="admin", url=source, kind="ckan", title="x", interval_minutes=60
    )
    assert harvest.due(portal) == [registered.id]
    harvest.harvest_due(portal)
    assert harvest.due(portal) == []
    later = portal.clock() + __import__("datetime").timedelta(minutes=61)
    assert harvest.due(portal, now=later) == [registered.id]


def cli(data_dir: Path, database: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PDS_")}
    env.update({"PDS_DATA_DIR": str(data_dir), "PDS_DATABASE_URL": database})
    return subprocess.run(
        [sys.executable, "-m", "open_portal.cli", "catalog", "harvest", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_pds_catalog_harvest(tmp_path: Path, source: str) -> None:
    database = f"sqlite:///{tmp_path / 'p.sqlite'}"
    with portal_at(tmp_path / "data", database):
        pass
    done = cli(tmp_path / "data", database, f"{source}/dcat/catalog.ttl", "--actor", "admin")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith("harvested 3 datasets")
    again = cli(tmp_path / "data", database, f"{source}/dcat/catalog.ttl", "--actor", "admin")
    assert again.returncode == 0
    refused = cli(tmp_path / "data", database, f"{source}/dcat/catalog.ttl", "--actor", "owner")
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1
    down = cli(tmp_path / "data", database, "http://127.0.0.1:9/c", "--actor", "admin")
    assert down.returncode == 2 and "failed" in down.stderr
    assert len(down.stderr.strip().splitlines()) == 1


def test_a_catalog_of_many_pages_is_served_and_harvested_page_by_page(tmp_path: Path) -> None:
    """ckanext-dcat's paging: 100 datasets a page with hydra links, followed by the harvester."""
    from factories import add_dataset

    from open_portal.models import Level

    with portal_at(tmp_path / "src", f"sqlite:///{tmp_path / 's.sqlite'}") as other:
        for number in range(205):
            add_dataset(other, f"ds-{number:03d}", Level.L2, publisher="hotline")
        with served(portal_app(other, PREFIX)) as url:
            first = http_get(f"{url}{PREFIX}/dcat/catalog.ttl")
            assert "hydra:nextPage" in first.text and "?page=2" in first.text
            assert first.text.count("a dcat:Dataset") == 100
            last = http_get(f"{url}{PREFIX}/dcat/catalog.ttl", params={"page": 3})
            assert last.text.count("a dcat:Dataset") == 5 and "hydra:nextPage" not in last.text
            assert (
                http_get(f"{url}{PREFIX}/dcat/catalog.ttl", params={"page": 4}).status_code == 404
            )
            with portal_at(tmp_path / "here", f"sqlite:///{tmp_path / 'h.sqlite'}") as here:
                registered = harvest.register_source(
                    here,
                    actor="admin",
                    url=f"{url}{PREFIX}/dcat/catalog.ttl",
                    kind="dcat",
                    title="big",
                )
                done = harvest.harvest(here, actor="admin", source_id=registered.id)
                assert done.status is HarvestStatus.OK, done.message
                assert done.dataset_count == 205
