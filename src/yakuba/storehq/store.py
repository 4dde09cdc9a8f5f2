"""The store HQ's billing lines in its own database (SQLAlchemy Core; Alembic migrations in ./migrations)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import (
    Column,
    Connection,
    Date,
    Engine,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from yakuba.database import UtcDateTime, in_transaction, migrate
from yakuba.errors import StoreError
from yakuba.storehq.service import BillingLine, BillingStatus, Closing

__all__ = ["MIGRATIONS", "VERSION_TABLE", "BillingStore", "billing_lines"]

MIGRATIONS = Path(__file__).parent / "migrations"
"""The store HQ's Alembic scripts."""

VERSION_TABLE = "storehq_alembic_version"
"""The HQ's own Alembic version table, so it may share a database with other components."""

_T = TypeVar("_T")


metadata = MetaData()

billing_lines = Table(
    "billing_lines",
    metadata,
    # Ids, day, city, kind, counts, money, status and a hash: nothing that names or follows a person.
    Column("transaction_id", String(64), primary_key=True),
    Column("chain_id", String(63), nullable=False),
    Column("kiosk_id", String(63), nullable=False),
    Column("business_day", Date(), nullable=False),
    Column("city", String(6), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("copies", Integer(), nullable=False),
    Column("submission_digest", LargeBinary(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("fee_per_copy", Integer(), nullable=True),
    Column("issuer_id", String(63), nullable=True),
    Column("copies_printed", Integer(), nullable=False),
    Column("copies_voided", Integer(), nullable=False),
    Column("amount_yen", Integer(), nullable=False),
    Column("reason", String(64), nullable=False),
    Column("opened_at", UtcDateTime(), nullable=False),
    Column("closed_at", UtcDateTime(), nullable=True),
    Column("reported_at", UtcDateTime(), nullable=True),
    Column("report_error", String(64), nullable=True),
    Index("ix_billing_lines_day_city", "business_day", "city"),
    Index("ix_billing_lines_kiosk", "kiosk_id"),
)
"""One row per relayed transaction: what the chain settles with J-LIS per city and month."""

Index(
    "ix_billing_lines_unreported",
    billing_lines.c.closed_at,
    billing_lines.c.transaction_id,
    sqlite_where=billing_lines.c.reported_at.is_(None),
    postgresql_where=billing_lines.c.reported_at.is_(None),
)

_UNREPORTED = (
    billing_lines.c.reported_at.is_(None),
    billing_lines.c.report_error.is_(None),
    billing_lines.c.closed_at.is_not(None),
)
"""Closed lines the center has not answered: ``reported_at IS NULL`` is the partial index's own condition."""


class BillingStore:
    """The billing lines in ENGINE's database; implements `yakuba.storehq.service.BillingLedger`."""

    def __init__(self, *, engine: Engine) -> None:
        self._engine = engine

    @classmethod
    def open(cls, *, engine: Engine) -> BillingStore:
        """A store whose schema is migrated to the latest revision."""
        migrate(engine, script_location=MIGRATIONS, version_table=VERSION_TABLE)
        return cls(engine=engine)

    def open_line(self, line: BillingLine) -> BillingLine:
        values = {
            "transaction_id": line.transaction_id,
            "chain_id": line.chain_id,
            "kiosk_id": line.kiosk_id,
            "business_day": line.business_day,
            "city": line.city,
            "kind": line.kind,
            "copies": line.copies,
            "submission_digest": line.submission_digest,
            "status": line.status.value,
            "fee_per_copy": line.fee_per_copy,
            "issuer_id": line.issuer_id,
            "copies_printed": line.copies_printed,
            "copies_voided": line.copies_voided,
            "amount_yen": line.amount_yen,
            "reason": line.reason,
            "opened_at": line.opened_at,
            "closed_at": line.closed_at,
            "reported_at": line.reported_at,
            "report_error": line.report_error,
        }
        try:
            with self._engine.begin() as conn:
                conn.execute(insert(billing_lines).values(**values))
            return line
        except IntegrityError:
            # Another try (or another process) opened it first: the existing line decides.
            existing = self.fetch_line(line.transaction_id)
            if existing is None:  # pragma: no cover - a primary-key clash leaves the row there
                raise StoreError("billing line vanished after a conflicting insert") from None
            return existing
        except SQLAlchemyError as exc:
            raise StoreError(f"billing store failed ({type(exc).__name__})") from exc

    def record_fee(self, transaction_id: str, *, fee_per_copy: int, issuer_id: str) -> None:
        statement = (
            update(billing_lines)
            .where(billing_lines.c.transaction_id == transaction_id)
            .values(fee_per_copy=fee_per_copy, issuer_id=issuer_id)
        )
        self._run(lambda conn: conn.execute(statement).rowcount)

    def close_line(self, transaction_id: str, closing: Closing) -> tuple[BillingLine, bool]:
        # One conditional UPDATE: of two racing reports exactly one closes the line.
        statement = (
            update(billing_lines)
            .where(
                billing_lines.c.transaction_id == transaction_id,
                billing_lines.c.status == BillingStatus.PENDING.value,
            )
            .values(
                status=closing.status.value,
                copies_printed=closing.copies_printed,
                copies_voided=closing.copies_voided,
                amount_yen=closing.amount_yen,
                reason=closing.reason,
                closed_at=closing.closed_at,
            )
        )
        found = select(billing_lines).where(billing_lines.c.transaction_id == transaction_id)

        def close(conn: Connection) -> tuple[RowMapping | None, bool]:
            changed = conn.execute(statement).rowcount == 1
            return conn.execute(found).mappings().first(), changed

        row, changed = self._run(close)
        if row is None:
            raise StoreError("no billing line to close")
        return _line(row), changed

    def fetch_line(self, transaction_id: str) -> BillingLine | None:
        statement = select(billing_lines).where(billing_lines.c.transaction_id == transaction_id)
        row = self._run(lambda conn: conn.execute(statement).mappings().first())
        return None if row is None else _line(row)

    def unreported(self, limit: int, *, closed_before: dt.datetime | None = None) -> list[BillingLine]:
        statement = (
            select(billing_lines)
            .where(*_UNREPORTED)
            .order_by(billing_lines.c.closed_at, billing_lines.c.transaction_id)
            .limit(limit)
        )
        if closed_before is not None:
            statement = statement.where(billing_lines.c.closed_at < closed_before)
        rows = self._run(lambda conn: list(conn.execute(statement).mappings()))
        return [_line(row) for row in rows]

    def count_unreported(self) -> int:
        """Closed lines the center has not answered yet (the outbox's depth, for waiting and monitoring)."""
        statement = select(func.count()).select_from(billing_lines).where(*_UNREPORTED)
        return int(self._run(lambda conn: conn.execute(statement).scalar_one()))

    def mark_reported_many(self, transaction_ids: Sequence[str], *, at: dt.datetime) -> None:
        if not transaction_ids:
            return
        # Only a line not answered yet: a second reporter's late answer keeps the first time (and any refusal).
        statement = (
            update(billing_lines)
            .where(billing_lines.c.transaction_id.in_(list(transaction_ids)), billing_lines.c.reported_at.is_(None))
            .values(reported_at=at)
        )
        self._run(lambda conn: conn.execute(statement).rowcount)

    def mark_refused(self, transaction_id: str, code: str, *, at: dt.datetime) -> None:
        statement = (
            update(billing_lines)
            .where(billing_lines.c.transaction_id == transaction_id, billing_lines.c.reported_at.is_(None))
            .values(reported_at=at, report_error=code)
        )
        self._run(lambda conn: conn.execute(statement).rowcount)

    def fetch_lines(self, *, business_day: dt.date | None = None) -> list[BillingLine]:
        """Every line, or those of one business day, oldest first (for settlement and the operator)."""
        statement = select(billing_lines).order_by(billing_lines.c.opened_at, billing_lines.c.transaction_id)
        if business_day is not None:
            statement = statement.where(billing_lines.c.business_day == business_day)
        rows = self._run(lambda conn: list(conn.execute(statement).mappings()))
        return [_line(row) for row in rows]

    def _run(self, work: Callable[[Connection], _T]) -> _T:
        return in_transaction(self._engine, work, what="billing store")


def _line(row: RowMapping) -> BillingLine:
    values: dict[str, Any] = dict(row)
    values["status"] = BillingStatus(values["status"])
    values["submission_digest"] = bytes(values["submission_digest"])
    return BillingLine(**values)
