"""0001: the JPKI status service's daily query counts (counts only, never serials).

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
        "status_queries",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("endpoint", sa.String(length=16), nullable=False),
        sa.Column("queries", sa.Integer(), nullable=False),
        sa.Column("serials", sa.Integer(), nullable=False),
        sa.Column("revoked", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "endpoint", name=op.f("pk_status_queries")),
    )


def downgrade() -> None:
    op.drop_table("status_queries")
