"""The kiosk's local issuance log (SQLAlchemy Core; Alembic migrations in ./migrations): no content, no person."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    insert,
    select,
)

from yakuba.database import UtcDateTime, in_transaction, migrate
from yakuba.kiosk.service import LogEntry
from yakuba.wire.messages import Outcome

__all__ = ["MIGRATIONS", "VERSION_TABLE", "KioskLogStore", "issuance_log"]

MIGRATIONS = Path(__file__).parent / "migrations"
"""The kiosk's Alembic scripts."""

VERSION_TABLE = "kiosk_alembic_version"
"""The kiosk's own Alembic version table."""

_T = TypeVar("_T")


metadata = MetaData()

issuance_log = Table(
    "issuance_log",
    metadata,
    Column("transaction_id", String(64), primary_key=True),
    Column("recorded_at", UtcDateTime(), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("copies", Integer(), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("copies_printed", Integer(), nullable=False),
    Column("copies_voided", Integer(), nullable=False),
    Column("amount_yen", Integer(), nullable=False),
    Column("reason", String(64), nullable=False),
    Column("reported", Boolean(), nullable=False),
)
"""One row per transaction that reached the card signature: what happened, never what was printed or for whom."""


class KioskLogStore:
    """The local log in ENGINE's database; implements `yakuba.kiosk.service.KioskLog`."""

    def __init__(self, *, engine: Engine) -> None:
        self._engine = engine

    @classmethod
    def open(cls, *, engine: Engine) -> KioskLogStore:
        """A log whose schema is migrated to the latest revision."""
        migrate(engine, script_location=MIGRATIONS, version_table=VERSION_TABLE)
        return cls(engine=engine)

    def record(self, entry: LogEntry) -> None:
        values: dict[str, Any] = {
            "transaction_id": entry.transaction_id,
            "recorded_at": entry.recorded_at,
            "kind": entry.kind,
            "copies": entry.copies,
            "outcome": entry.outcome.value,
            "copies_printed": entry.copies_printed,
            "copies_voided": entry.copies_voided,
            "amount_yen": entry.amount_yen,
            "reason": entry.reason,
            "reported": entry.reported,
        }
        self._run(lambda conn: conn.execute(insert(issuance_log).values(**values)).rowcount)

    def fetch_entries(self) -> list[LogEntry]:
        """Every entry, oldest first."""
        statement = select(issuance_log).order_by(issuance_log.c.recorded_at, issuance_log.c.transaction_id)
        rows = self._run(lambda conn: [dict(row) for row in conn.execute(statement).mappings()])
        return [LogEntry(**{**row, "outcome": Outcome(row["outcome"])}) for row in rows]

    def _run(self, work: Callable[[Connection], _T]) -> _T:
        return in_transaction(self._engine, work, what="kiosk log")
