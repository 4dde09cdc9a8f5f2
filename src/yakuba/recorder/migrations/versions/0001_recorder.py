"""Recorder: fleet, staff, media ledger, segment catalogue, holds, view grants, retention policy.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from yakuba.database import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rec_vehicles",
        sa.Column("vehicle_id", sa.String(16), primary_key=True),
        sa.Column("plate_ref", sa.String(32), nullable=False),
        sa.Column("depot", sa.String(32), nullable=False),
    )
    op.create_table(
        "rec_recorders",
        sa.Column("serial", sa.String(32), primary_key=True),
        sa.Column("vehicle_id", sa.String(16), sa.ForeignKey("rec_vehicles.vehicle_id"), nullable=False),
        sa.Column("model", sa.String(32), nullable=False),
        sa.Column("mounting", sa.String(64), nullable=False),
        sa.Column("camera_angle_deg", sa.Integer, nullable=False),
    )
    op.create_table(
        "rec_staff",
        sa.Column("staff_id", sa.String(64), primary_key=True),
        sa.Column("role", sa.String(24), nullable=False),
    )
    op.create_table(
        "rec_cards",
        sa.Column("card_id", sa.String(32), primary_key=True),
        sa.Column("capacity_bytes", sa.BigInteger, nullable=False),
        sa.Column("place", sa.String(16), nullable=False),
        sa.Column("place_ref", sa.String(64)),
        sa.Column("since", UtcDateTime, nullable=False),
        sa.Column("due_back", UtcDateTime),
    )
    op.create_table(
        "rec_card_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("card_id", sa.String(32), nullable=False, index=True),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("staff_id", sa.String(64), nullable=False),
        sa.Column("counter_staff_id", sa.String(64)),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("place", sa.String(16), nullable=False),
        sa.Column("place_ref", sa.String(64)),
    )
    op.create_table(
        "rec_ingests",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("vehicle_id", sa.String(16), nullable=False),
        sa.Column("card_id", sa.String(32)),
        sa.Column("staff_id", sa.String(64), nullable=False),
        sa.Column("started_at", UtcDateTime, nullable=False),
        sa.Column("finished_at", UtcDateTime),
        sa.Column("stored", sa.Integer, nullable=False),
        sa.Column("duplicates", sa.Integer, nullable=False),
        sa.Column("rejected", sa.Integer, nullable=False),
    )
    op.create_table(
        "rec_segments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("vehicle_id", sa.String(16), nullable=False),
        sa.Column("klass", sa.String(16), nullable=False),
        sa.Column("start", UtcDateTime, nullable=False),
        sa.Column("end", UtcDateTime, nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("source_name", sa.String(255), nullable=False),
        sa.Column("gps_sha256", sa.String(64)),
        sa.Column("ingest_id", sa.Integer, nullable=False),
        sa.Column("retain_until", UtcDateTime, nullable=False),
        sa.Column("erase_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_rec_segments_erase_at", "rec_segments", ["erase_at"])
    op.create_index("ix_rec_segments_vehicle_start", "rec_segments", ["vehicle_id", "start"])
    op.create_table(
        "rec_rejected_files",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ingest_id", sa.Integer, nullable=False),
        sa.Column("source_name", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("kept_at", sa.Text, nullable=False),
    )
    op.create_table(
        "rec_holds",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("vehicle_id", sa.String(16), nullable=False),
        sa.Column("window_start", UtcDateTime, nullable=False),
        sa.Column("window_end", UtcDateTime, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("placed_by", sa.String(64), nullable=False),
        sa.Column("placed_at", UtcDateTime, nullable=False),
        sa.Column("released_at", UtcDateTime),
        sa.Column("released_by", sa.String(64)),
        sa.Column("release_reason", sa.Text),
    )
    op.create_table(
        "rec_view_grants",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("staff_id", sa.String(64), nullable=False),
        sa.Column("segment_id", sa.Integer, nullable=False),
        sa.Column("basis_hold_id", sa.Integer, nullable=False),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "rec_retention_classes",
        sa.Column("klass", sa.String(16), primary_key=True),
        sa.Column("maximum_seconds", sa.Integer, nullable=False),
    )
    op.create_table(
        "rec_retention_lock",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("epoch", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(
        sa.table("rec_retention_classes", sa.column("klass", sa.String), sa.column("maximum_seconds", sa.Integer)),
        [{"klass": "normal", "maximum_seconds": 7 * 86400}, {"klass": "event", "maximum_seconds": 7 * 86400}],
    )
    op.bulk_insert(
        sa.table("rec_retention_lock", sa.column("id", sa.Integer), sa.column("epoch", sa.BigInteger)),
        [{"id": 1, "epoch": 0}],
    )


def downgrade() -> None:
    for name in (
        "rec_retention_lock",
        "rec_retention_classes",
        "rec_view_grants",
        "rec_holds",
        "rec_rejected_files",
        "rec_segments",
        "rec_ingests",
        "rec_card_events",
        "rec_cards",
        "rec_staff",
        "rec_recorders",
        "rec_vehicles",
    ):
        op.drop_table(name)
