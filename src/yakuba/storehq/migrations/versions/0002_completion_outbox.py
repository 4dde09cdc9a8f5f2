"""0002 completion outbox: a final refusal of a completion report stays on its line; unreported lines are cheap to find.

The HQ answers the kiosk once its billing line is closed and reports closed lines to the center in batches
from a background reporter. ``report_error`` keeps the code of a final refusal (an operator must look; the
line is not sent again). The partial index holds only the lines the center has not answered yet (a handful:
the lines in flight, and any left by a crash or an outage), so the reporter's sweep stays cheap however many
lines the ledger holds.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("billing_lines") as batch:
        batch.add_column(sa.Column("report_error", sa.String(length=64), nullable=True))
    op.create_index(
        "ix_billing_lines_unreported",
        "billing_lines",
        ["closed_at", "transaction_id"],
        sqlite_where=sa.text("reported_at IS NULL"),
        postgresql_where=sa.text("reported_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_billing_lines_unreported", table_name="billing_lines")
    with op.batch_alter_table("billing_lines") as batch:
        batch.drop_column("report_error")
