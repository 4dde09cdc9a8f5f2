"""0003 service controls: kind suspensions and maintenance windows set from the city's operations console.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "service_controls",
        sa.Column("id", _Id, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(32), nullable=True),
        sa.Column("starts_at", sa.String(32), nullable=True),
        sa.Column("ends_at", sa.String(32), nullable=True),
        sa.Column("note", sa.String(200), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("lifted_at", sa.String(32), nullable=True),
        sa.Column("lifted_by", sa.String(64), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("service_controls")
