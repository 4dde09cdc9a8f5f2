"""Recorder: the external-provision request register and its requested windows.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from yakuba.database import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rec_provisions",
        sa.Column("request_no", sa.String(32), primary_key=True),
        sa.Column("form_no", sa.String(64), nullable=False),
        sa.Column("requester_kind", sa.String(24), nullable=False),
        sa.Column("requester_name", sa.Text, nullable=False),
        sa.Column("legal_basis", sa.String(24), nullable=False),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("deadline", sa.Date),
        sa.Column("received_at", UtcDateTime, nullable=False),
        sa.Column("received_by", sa.String(64), nullable=False),
        sa.Column("case_by_case", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("keep_audio", sa.Boolean, nullable=False),
        sa.Column("blur", sa.Boolean, nullable=False),
        sa.Column("decision", sa.String(16)),
        sa.Column("reasons", sa.Text),
        sa.Column("decided_by", sa.String(64)),
        sa.Column("decided_by_role", sa.String(24)),
        sa.Column("decided_at", UtcDateTime),
        sa.Column("return_due", sa.Date),
        sa.Column("lent_at", UtcDateTime),
        sa.Column("returned_or_destroyed_at", UtcDateTime),
        sa.Column("return_kind", sa.String(16)),
        sa.Column("return_ref", sa.Text),
        sa.Column("export_dir", sa.Text),
        sa.Column("flagged_frames", sa.Integer),
        sa.Column("reviewed_by", sa.String(64)),
        sa.Column("reviewed_at", UtcDateTime),
        sa.Column("closed_at", UtcDateTime),
        sa.Column("closed_by", sa.String(64)),
    )
    op.create_index("ix_rec_provisions_received_at", "rec_provisions", ["received_at"])
    op.create_table(
        "rec_provision_windows",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("request_no", sa.String(32), sa.ForeignKey("rec_provisions.request_no"), nullable=False, index=True),
        sa.Column("vehicle_id", sa.String(16), nullable=False),
        sa.Column("start", UtcDateTime, nullable=False),
        sa.Column("end", UtcDateTime, nullable=False),
        sa.Column("hold_id", sa.Integer),
        sa.Column("approved", sa.Boolean),
    )


def downgrade() -> None:
    op.drop_table("rec_provision_windows")
    op.drop_index("ix_rec_provisions_received_at", "rec_provisions")
    op.drop_table("rec_provisions")
