"""Recorder: how far each segment has been verified (structure at ingest, full decode by the scrub).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from yakuba.database import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Segments catalogued before this revision were decoded at ingest, but by a decoder that concealed
    # errors: they start as "structure" so the scrub decodes them again, strictly.
    op.add_column("rec_segments", sa.Column("verified", sa.String(16), nullable=False, server_default="structure"))
    op.add_column("rec_segments", sa.Column("verified_at", UtcDateTime))
    op.add_column("rec_segments", sa.Column("verify_error", sa.String(200)))
    op.create_index("ix_rec_segments_verified", "rec_segments", ["verified", "id"])


def downgrade() -> None:
    op.drop_index("ix_rec_segments_verified", "rec_segments")
    with op.batch_alter_table("rec_segments") as batch:
        batch.drop_column("verify_error")
        batch.drop_column("verified_at")
        batch.drop_column("verified")
