"""0002 audit subject: the audit log's keyed hash of the person, so a completion's entry names them too.

Revision ID: 0002
Revises: 0001
Create Date: 2025-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("issuance_log") as batch:
        batch.add_column(sa.Column("subject_hash", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("issuance_log") as batch:
        batch.drop_column("subject_hash")
