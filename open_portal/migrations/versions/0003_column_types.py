"""column types of dataset versions

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 08:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # versions uploaded before types were inferred keep every column as text
    op.add_column(
        "dataset_versions",
        sa.Column("column_types", sa.JSON(), nullable=False, server_default=sa.text("'{}'")),
    )


def downgrade() -> None:
    with op.batch_alter_table("dataset_versions") as batch:
        batch.drop_column("column_types")
