"""0001 issuance log: one row per transaction the issuer saw, with its kept envelope until completion.

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

_Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "issuance_log",
        sa.Column("id", _Id, primary_key=True, autoincrement=True),
        sa.Column("transaction_id", sa.String(40), nullable=False),
        sa.Column("request_digest", sa.LargeBinary(32), nullable=False),
        sa.Column("card_hash", sa.String(64), nullable=False),
        sa.Column("kiosk_id", sa.String(63), nullable=False),
        sa.Column("chain_id", sa.String(63), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("basis", sa.String(16), nullable=False),
        sa.Column("copies", sa.Integer, nullable=False),
        sa.Column("fee_yen", sa.Integer, nullable=False),
        sa.Column("person_hash", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(40), nullable=True),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("serial", sa.String(40), nullable=True),
        sa.Column("pages", sa.Integer, nullable=True),
        sa.Column("issued_at", sa.String(32), nullable=True),
        sa.Column("content_digest", sa.String(64), nullable=True),
        sa.Column("envelope", sa.LargeBinary, nullable=True),
        sa.Column("copies_printed", sa.Integer, nullable=True),
        sa.Column("copies_voided", sa.Integer, nullable=True),
        sa.Column("completed_at", sa.String(32), nullable=True),
        sa.UniqueConstraint("transaction_id", name="issuance_log_transaction_id_key"),
        sa.UniqueConstraint("serial", name="issuance_log_serial_key"),
    )
    op.create_index("issuance_log_created", "issuance_log", ["created_at"])


def downgrade() -> None:
    op.drop_index("issuance_log_created", table_name="issuance_log")
    op.drop_table("issuance_log")
