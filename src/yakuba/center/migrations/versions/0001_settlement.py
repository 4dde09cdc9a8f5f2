"""0001: the center's settlement lines and city suspensions (ids, counts, yen, hashes; nothing personal).

Revision ID: 0001
Revises:
Create Date: 2025-12-01
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
        "settlement_lines",
        sa.Column("transaction_id", sa.String(length=35), nullable=False),
        sa.Column("request_digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column("challenge_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("city", sa.String(length=6), nullable=False),
        sa.Column("chain_id", sa.String(length=63), nullable=False),
        sa.Column("kiosk_id", sa.String(length=63), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("basis", sa.String(length=16), nullable=False),
        sa.Column("copies", sa.Integer(), nullable=False),
        sa.Column("fee_yen", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("copies_printed", sa.Integer(), nullable=False),
        sa.Column("copies_voided", sa.Integer(), nullable=False),
        sa.Column("amount_yen", sa.Integer(), nullable=False),
        sa.Column("failure", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("transaction_id", name=op.f("pk_settlement_lines")),
    )
    op.create_index("ix_settlement_lines_day_city", "settlement_lines", ["day", "city"], unique=False)
    op.create_table(
        "city_suspensions",
        sa.Column("city", sa.String(length=6), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("transaction_id", sa.String(length=35), nullable=False),
        sa.Column("suspended_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("city", name=op.f("pk_city_suspensions")),
    )


def downgrade() -> None:
    op.drop_table("city_suspensions")
    op.drop_index("ix_settlement_lines_day_city", table_name="settlement_lines")
    op.drop_table("settlement_lines")
