"""grant invitations: team members join a grant only by accepting

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 08:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import open_portal.models.base

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "grant_invitations",
        sa.Column("grant_id", sa.String(length=32), nullable=False),
        sa.Column("user_name", sa.String(length=64), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "INVITED",
                "ACCEPTED",
                "DECLINED",
                name="invitationstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("created_at", open_portal.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", open_portal.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["grant_id"], ["grants.id"], name=op.f("fk_grant_invitations_grant_id_grants")
        ),
        sa.PrimaryKeyConstraint("grant_id", "user_name", name=op.f("pk_grant_invitations")),
    )


def downgrade() -> None:
    op.drop_table("grant_invitations")
