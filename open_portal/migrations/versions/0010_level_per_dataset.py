"""level per dataset: each dataset of an application and of a grant has its own level

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 11:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

LEVEL = sa.Enum("L1", "L2", "L3", "L4", name="level", native_enum=False, length=4)


def upgrade() -> None:
    # rows made before: every dataset had the level of its application (grant), as it was used
    for table, parent, key in (
        ("application_datasets", "applications", "application_id"),
        ("grant_datasets", "grants", "grant_id"),
    ):
        op.add_column(table, sa.Column("level", LEVEL, nullable=False, server_default="L2"))
        op.execute(
            f"UPDATE {table} SET level = "
            f"(SELECT {parent}.level FROM {parent} WHERE {parent}.id = {table}.{key})"
        )


def downgrade() -> None:
    for table in ("application_datasets", "grant_datasets"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("level")
