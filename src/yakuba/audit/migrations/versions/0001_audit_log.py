"""0001 audit log: entries, tiles, checkpoints, integration state, witness heads.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
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
        "audit_entries",
        sa.Column("id", _Id, primary_key=True, autoincrement=True),
        sa.Column("leaf_index", sa.BigInteger, nullable=True),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("subject_hash", sa.String(64), nullable=True),
        sa.Column("event_time", sa.String(32), nullable=False),
        sa.UniqueConstraint("leaf_index", name="audit_entries_leaf_index_key"),
    )
    op.create_index(
        "audit_entries_pending",
        "audit_entries",
        ["id"],
        sqlite_where=sa.text("leaf_index IS NULL"),
        postgresql_where=sa.text("leaf_index IS NULL"),
    )
    op.create_index("audit_entries_subject", "audit_entries", ["subject_hash", "event_time"])
    op.create_table(
        "audit_tiles",
        sa.Column("level", sa.SmallInteger, primary_key=True, autoincrement=False),
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("width", sa.SmallInteger, nullable=False),
        sa.Column("hashes", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("tree_size", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("root_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "audit_state",
        sa.Column("id", sa.SmallInteger, primary_key=True, autoincrement=False),
        sa.Column("origin", sa.String(255), nullable=False),
        sa.Column("tree_size", sa.BigInteger, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("integrated_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "audit_witness_heads",
        sa.Column("origin", sa.String(255), primary_key=True),
        sa.Column("tree_size", sa.BigInteger, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("audit_witness_heads")
    op.drop_table("audit_state")
    op.drop_table("audit_checkpoints")
    op.drop_table("audit_tiles")
    op.drop_index("audit_entries_subject", table_name="audit_entries")
    op.drop_index("audit_entries_pending", table_name="audit_entries")
    op.drop_table("audit_entries")
