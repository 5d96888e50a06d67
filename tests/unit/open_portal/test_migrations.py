"""Migrations run from empty on both databases and match the models exactly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from open_portal.db import make_engine, migrate
from open_portal.schema import target_metadata


def test_migrate_from_empty_matches_models(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate(engine)
        tables = set(inspect(engine).get_table_names())
        expected = {t for m in target_metadata() for t in m.tables}
        assert expected <= tables
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), target_metadata())
        assert diff == []
        migrate(engine)  # idempotent
    finally:
        engine.dispose()
