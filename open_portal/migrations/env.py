"""Alembic environment: runs on the engine the portal hands over."""

from __future__ import annotations

from alembic import context

from open_portal.schema import target_metadata

engine = context.config.attributes.get("engine")
if engine is None:
    from open_portal.config import get_settings
    from open_portal.db import make_engine

    engine = make_engine(get_settings().sqlalchemy_url)

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=target_metadata(),
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
