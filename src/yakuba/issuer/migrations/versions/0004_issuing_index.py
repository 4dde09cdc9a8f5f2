"""0004 issuing index: the sweep for entries a killed process left issuing reads only those entries.

Every minute each issuer process marks failed the entries still `issuing` ten minutes after their reservation
(`IssuanceLogStore.fail_interrupted`). On the created_at index that meant walking every entry older than ten
minutes, the whole log of the city's years, to find the handful (usually none) still issuing. The partial
index holds only the entries issuing right now.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "issuance_log_issuing",
        "issuance_log",
        ["created_at"],
        sqlite_where=sa.text("status = 'issuing'"),
        postgresql_where=sa.text("status = 'issuing'"),
    )


def downgrade() -> None:
    op.drop_index("issuance_log_issuing", table_name="issuance_log")
