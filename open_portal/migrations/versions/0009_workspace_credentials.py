"""workspace credentials: one per running workspace, bound to a grant and a member

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 08:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import open_portal.models.base

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workspace_credentials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("grant_id", sa.String(length=32), nullable=False),
        sa.Column("user_name", sa.String(length=64), nullable=False),
        sa.Column("created_at", open_portal.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["grant_id"], ["grants.id"], name=op.f("fk_workspace_credentials_grant_id_grants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspace_credentials")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_workspace_credentials_token_hash")),
    )
    with op.batch_alter_table("workspace_credentials", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_workspace_credentials_grant_id"), ["grant_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("workspace_credentials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workspace_credentials_grant_id"))
    op.drop_table("workspace_credentials")
