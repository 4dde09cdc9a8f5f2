"""0001: the store HQ's billing lines: one row per relayed transaction, no personal data.

Revision ID: 0001
Revises:
Create Date: 2025-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "billing_lines",
        sa.Column("transaction_id", sa.String(length=64), nullable=False),
        sa.Column("chain_id", sa.String(length=63), nullable=False),
        sa.Column("kiosk_id", sa.String(length=63), nullable=False),
        sa.Column("business_day", sa.Date(), nullable=False),
        sa.Column("city", sa.String(length=6), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("copies", sa.Integer(), nullable=False),
        sa.Column("submission_digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("fee_per_copy", sa.Integer(), nullable=True),
        sa.Column("issuer_id", sa.String(length=63), nullable=True),
        sa.Column("copies_printed", sa.Integer(), nullable=False),
        sa.Column("copies_voided", sa.Integer(), nullable=False),
        sa.Column("amount_yen", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("transaction_id", name=op.f("pk_billing_lines")),
    )
    op.create_index("ix_billing_lines_day_city", "billing_lines", ["business_day", "city"], unique=False)
    op.create_index("ix_billing_lines_kiosk", "billing_lines", ["kiosk_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_billing_lines_kiosk", table_name="billing_lines")
    op.drop_index("ix_billing_lines_day_city", table_name="billing_lines")
    op.drop_table("billing_lines")
