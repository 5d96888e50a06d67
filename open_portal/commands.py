"""``pds`` commands of the portal: run the platform, migrate the database."""

from __future__ import annotations

import argparse
from typing import Any


def _run(args: argparse.Namespace) -> int:
    from open_portal.launch import main

    main()
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from open_portal.config import get_settings
    from open_portal.db import make_engine, migrate
    from policies.store import seed_default_policy

    engine = make_engine(get_settings().sqlalchemy_url)
    migrate(engine)
    seed_default_policy(engine)
    print("database is at the newest schema")
    return 0


def _harvest(args: argparse.Namespace) -> int:
    """Register the source if it is new, harvest it once, and say what came of it."""
    from sqlalchemy import select

    from open_portal.cli import CliError
    from open_portal.config import get_settings
    from open_portal.models import HarvestSource, HarvestStatus
    from open_portal.service import harvest
    from open_portal.service.context import open_portal

    portal = open_portal(get_settings())
    try:
        with portal.sessions() as session:
            known = session.scalar(select(HarvestSource).where(HarvestSource.url == args.url))
            source_id = known.id if known is not None else None
        if source_id is None:
            title = args.title or args.url
            source_id = harvest.register_source(
                portal, actor=args.actor, url=args.url, kind=args.kind, title=title[:256]
            ).id
        source = harvest.harvest(portal, actor=args.actor, source_id=source_id)
        if source.status is not HarvestStatus.OK:
            raise CliError(f"harvest of {args.url} failed: {source.message}")
        print(f"harvested {source.dataset_count} datasets from {args.url}")
    finally:
        portal.close()
    return 0


def register(sub: argparse._SubParsersAction[Any]) -> None:
    run = sub.add_parser("run", help="start the platform (hub, proxy, portal)")
    run.set_defaults(handler=_run)
    migrate = sub.add_parser("migrate", help="create or upgrade the portal database")
    migrate.set_defaults(handler=_migrate)
    catalog = sub.add_parser("catalog", help="the catalog: federation with other catalogs")
    catalog_sub = catalog.add_subparsers(dest="catalog_command", required=True, metavar="COMMAND")
    harvest = catalog_sub.add_parser(
        "harvest", help="harvest another catalog (DCAT-AP or CKAN) into this one"
    )
    harvest.add_argument("url", help="the source: a DCAT-AP catalog or a CKAN site")
    harvest.add_argument("--kind", choices=("dcat", "ckan"), default="dcat")
    harvest.add_argument("--title", default="", help="the source's name (default: its address)")
    harvest.add_argument("--actor", required=True, help="the admin account the harvest is done as")
    harvest.set_defaults(handler=_harvest)
