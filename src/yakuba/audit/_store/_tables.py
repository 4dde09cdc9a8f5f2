"""The audit log's SQL tables (SQLAlchemy Core), mirrored by migration 0001."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
)

__all__ = ["checkpoints", "entries", "metadata", "state", "tiles", "witness_heads"]

metadata = MetaData()

_Id = BigInteger().with_variant(Integer(), "sqlite")  # SQLite: INTEGER PRIMARY KEY is the rowid

entries = Table(
    "audit_entries",
    metadata,
    # Assigned by the database at INSERT, in any process: arrival order, may have gaps (PostgreSQL).
    Column("id", _Id, primary_key=True, autoincrement=True),
    # Assigned by the integrator, dense from 0: the position in the Merkle tree. NULL = not yet sequenced.
    Column("leaf_index", BigInteger, nullable=True, unique=True),
    Column("leaf_hash", LargeBinary(32), nullable=False),
    Column("body", LargeBinary, nullable=False),
    # Copies of fields inside `body`, for queries; `verify` checks they agree with the hashed body.
    Column("event_type", String(64), nullable=False),
    Column("subject_hash", String(64), nullable=True),
    Column("event_time", String(32), nullable=False),
)
Index(
    "audit_entries_pending",
    entries.c.id,
    sqlite_where=entries.c.leaf_index.is_(None),
    postgresql_where=entries.c.leaf_index.is_(None),
)
Index("audit_entries_subject", entries.c.subject_hash, entries.c.event_time)

tiles = Table(
    "audit_tiles",
    metadata,
    Column("level", SmallInteger, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("width", SmallInteger, nullable=False),
    Column("hashes", LargeBinary, nullable=False),
)

checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("tree_size", BigInteger, primary_key=True, autoincrement=False),
    Column("root_hash", LargeBinary(32), nullable=False),
    Column("note", Text, nullable=False),
    Column("created_at", String(32), nullable=False),
)

state = Table(
    "audit_state",
    metadata,
    Column("id", SmallInteger, primary_key=True, autoincrement=False),
    Column("origin", String(255), nullable=False),
    Column("tree_size", BigInteger, nullable=False),
    Column("root_hash", LargeBinary(32), nullable=False),
    Column("integrated_at", String(32), nullable=False),
)

witness_heads = Table(
    "audit_witness_heads",
    metadata,
    Column("origin", String(255), primary_key=True),
    Column("tree_size", BigInteger, nullable=False),
    Column("root_hash", LargeBinary(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
)
