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


def register(sub: argparse._SubParsersAction[Any]) -> None:
    run = sub.add_parser("run", help="start the platform (hub, proxy, portal)")
    run.set_defaults(handler=_run)
    migrate = sub.add_parser("migrate", help="create or upgrade the portal database")
    migrate.set_defaults(handler=_migrate)
