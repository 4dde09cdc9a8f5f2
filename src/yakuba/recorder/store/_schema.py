"""The recorder's tables (SQLAlchemy Core), created by migrations/versions/0001_recorder.py (+ 0003_scrub.py)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, MetaData, String, Table, Text

from yakuba.database import UtcDateTime

__all__ = [
    "card_events",
    "cards",
    "holds",
    "ingests",
    "metadata",
    "recorders",
    "rejected_files",
    "retention_classes",
    "retention_lock",
    "segments",
    "staff",
    "vehicles",
    "view_grants",
]

metadata = MetaData()

vehicles = Table(
    "rec_vehicles",
    metadata,
    Column("vehicle_id", String(16), primary_key=True),
    Column("plate_ref", String(32), nullable=False),
    Column("depot", String(32), nullable=False),
)

recorders = Table(
    "rec_recorders",
    metadata,
    Column("serial", String(32), primary_key=True),
    Column("vehicle_id", String(16), ForeignKey("rec_vehicles.vehicle_id"), nullable=False),
    Column("model", String(32), nullable=False),
    Column("mounting", String(64), nullable=False),
    Column("camera_angle_deg", Integer, nullable=False),
)

staff = Table(
    "rec_staff",
    metadata,
    Column("staff_id", String(64), primary_key=True),
    Column("role", String(24), nullable=False),
)

cards = Table(
    "rec_cards",
    metadata,
    Column("card_id", String(32), primary_key=True),
    Column("capacity_bytes", BigInteger, nullable=False),
    Column("place", String(16), nullable=False),
    Column("place_ref", String(64)),
    Column("since", UtcDateTime, nullable=False),
    Column("due_back", UtcDateTime),
)

card_events = Table(
    "rec_card_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("card_id", String(32), nullable=False, index=True),
    Column("kind", String(24), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("staff_id", String(64), nullable=False),
    Column("counter_staff_id", String(64)),
    Column("reason", Text, nullable=False),
    Column("place", String(16), nullable=False),
    Column("place_ref", String(64)),
)

ingests = Table(
    "rec_ingests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("vehicle_id", String(16), nullable=False),
    Column("card_id", String(32)),
    Column("staff_id", String(64), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime),
    Column("stored", Integer, nullable=False, default=0),
    Column("duplicates", Integer, nullable=False, default=0),
    Column("rejected", Integer, nullable=False, default=0),
)

segments = Table(
    "rec_segments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sha256", String(64), nullable=False, unique=True),
    Column("vehicle_id", String(16), nullable=False),
    Column("klass", String(16), nullable=False),
    Column("start", UtcDateTime, nullable=False),
    Column("end", UtcDateTime, nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("source_name", String(255), nullable=False),
    Column("gps_sha256", String(64)),
    Column("ingest_id", Integer, nullable=False),
    Column("retain_until", UtcDateTime, nullable=False),
    Column("erase_at", UtcDateTime, nullable=False),
    Column("verified", String(16), nullable=False, default="structure"),
    Column("verified_at", UtcDateTime),
    Column("verify_error", String(200)),
    Index("ix_rec_segments_erase_at", "erase_at"),
    Index("ix_rec_segments_verified", "verified", "id"),
    Index("ix_rec_segments_vehicle_start", "vehicle_id", "start"),
)

rejected_files = Table(
    "rec_rejected_files",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ingest_id", Integer, nullable=False),
    Column("source_name", String(255), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("reason", String(200), nullable=False),
    Column("kept_at", Text, nullable=False),
)

holds = Table(
    "rec_holds",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(24), nullable=False),
    Column("vehicle_id", String(16), nullable=False),
    Column("window_start", UtcDateTime, nullable=False),
    Column("window_end", UtcDateTime, nullable=False),
    Column("description", Text, nullable=False),
    Column("placed_by", String(64), nullable=False),
    Column("placed_at", UtcDateTime, nullable=False),
    Column("released_at", UtcDateTime),
    Column("released_by", String(64)),
    Column("release_reason", Text),
)

view_grants = Table(
    "rec_view_grants",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("staff_id", String(64), nullable=False),
    Column("segment_id", Integer, nullable=False),
    Column("basis_hold_id", Integer, nullable=False),
    Column("purpose", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)

retention_classes = Table(
    "rec_retention_classes",
    metadata,
    Column("klass", String(16), primary_key=True),
    Column("maximum_seconds", Integer, nullable=False),
)

retention_lock = Table(
    "rec_retention_lock",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("epoch", BigInteger, nullable=False),
)
