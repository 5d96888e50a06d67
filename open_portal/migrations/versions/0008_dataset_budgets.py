"""dataset privacy budgets: a total ε per dataset and a cap per person across grants

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import open_portal.models.base

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dataset_budgets",
        sa.Column("dataset_id", sa.String(length=64), nullable=False),
        sa.Column("budget_nano", sa.BigInteger(), nullable=False),
        sa.Column("spent_nano", sa.BigInteger(), nullable=False),
        sa.Column("per_person_nano", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", open_portal.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("budget_nano > 0", name=op.f("ck_dataset_budgets_positive_budget")),
        sa.CheckConstraint(
            "per_person_nano IS NULL OR per_person_nano > 0",
            name=op.f("ck_dataset_budgets_positive_per_person"),
        ),
        sa.CheckConstraint(
            "spent_nano >= 0 AND spent_nano <= budget_nano",
            name=op.f("ck_dataset_budgets_within_budget"),
        ),
        sa.PrimaryKeyConstraint("dataset_id", name=op.f("pk_dataset_budgets")),
    )
    op.create_table(
        "dataset_person_spends",
        sa.Column("dataset_id", sa.String(length=64), nullable=False),
        sa.Column("person", sa.String(length=64), nullable=False),
        sa.Column("spent_nano", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("spent_nano >= 0", name=op.f("ck_dataset_person_spends_not_negative")),
        sa.PrimaryKeyConstraint("dataset_id", "person", name=op.f("pk_dataset_person_spends")),
    )


def downgrade() -> None:
    op.drop_table("dataset_person_spends")
    op.drop_table("dataset_budgets")
