"""The center's persistence: settlement lines and city suspensions (SQLAlchemy Core, SQLite or PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Sequence
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
    case,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from yakuba.center.errors import TransactionConflictError
from yakuba.center.ports import CitySuspension, LineClosing, LineStatus, SettlementLine, SettlementRow
from yakuba.database import UtcDateTime, in_transaction, migrate
from yakuba.errors import StoreError

__all__ = ["MIGRATIONS", "VERSION_TABLE", "SqlSettlementStore", "city_suspensions_table", "settlement_lines_table"]

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "center_alembic_version"

_T = TypeVar("_T")


_metadata = MetaData()

settlement_lines_table = Table(
    "settlement_lines",
    _metadata,
    # Ids, city, chain, kind, counts, yen and hashes only: no card serial, nothing about the person.
    Column("transaction_id", String(35), primary_key=True),
    Column("request_digest", LargeBinary(32), nullable=False),
    Column("challenge_hash", LargeBinary(32), nullable=False),
    Column("day", Date(), nullable=False),
    Column("city", String(6), nullable=False),
    Column("chain_id", String(63), nullable=False),
    Column("kiosk_id", String(63), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("basis", String(16), nullable=False),
    Column("copies", Integer(), nullable=False),
    Column("fee_yen", Integer(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("outcome", String(16), nullable=True),
    Column("copies_printed", Integer(), nullable=False),
    Column("copies_voided", Integer(), nullable=False),
    Column("amount_yen", Integer(), nullable=False),
    Column("failure", String(64), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("answered_at", UtcDateTime(), nullable=True),
    Column("closed_at", UtcDateTime(), nullable=True),
    Index("ix_settlement_lines_day_city", "day", "city"),
)

city_suspensions_table = Table(
    "city_suspensions",
    _metadata,
    Column("city", String(6), primary_key=True),
    Column("reason", String(64), nullable=False),
    Column("transaction_id", String(35), nullable=False),
    Column("suspended_at", UtcDateTime(), nullable=False),
)


class SqlSettlementStore:
    """Settlement lines and suspensions in ENGINE; every change is one conditional statement, so several
    center processes sharing the database never both close, fail or open the same line."""

    def __init__(self, *, engine: Engine) -> None:
        self._engine = engine

    def migrate(self) -> None:
        """Bring the tables up to date (Alembic, version table of its own)."""
        migrate(self._engine, script_location=MIGRATIONS, version_table=VERSION_TABLE)

    def find_line(self, transaction_id: str) -> SettlementLine | None:
        statement = select(settlement_lines_table).where(settlement_lines_table.c.transaction_id == transaction_id)
        row = self._run(lambda conn: conn.execute(statement).mappings().first())
        return None if row is None else _line(row)

    def find_lines(self, transaction_ids: Collection[str]) -> dict[str, SettlementLine]:
        """The lines of those ids that exist, by id: one query for a whole completion batch."""
        if not transaction_ids:
            return {}
        c = settlement_lines_table.c
        statement = select(settlement_lines_table).where(c.transaction_id.in_(list(transaction_ids)))
        rows = self._run(lambda conn: conn.execute(statement).mappings().all())
        return {row["transaction_id"]: _line(row) for row in rows}

    def open_line(self, line: SettlementLine) -> None:
        values = {
            "transaction_id": line.transaction_id,
            "request_digest": line.request_digest,
            "challenge_hash": line.challenge_hash,
            "day": line.day,
            "city": line.city,
            "chain_id": line.chain_id,
            "kiosk_id": line.kiosk_id,
            "kind": line.kind,
            "basis": line.basis,
            "copies": line.copies,
            "fee_yen": line.fee_yen,
            "status": line.status.value,
            "outcome": line.outcome,
            "copies_printed": line.copies_printed,
            "copies_voided": line.copies_voided,
            "amount_yen": line.amount_yen,
            "failure": line.failure,
            "created_at": line.created_at,
            "answered_at": line.answered_at,
            "closed_at": line.closed_at,
        }
        try:
            with self._engine.begin() as conn:
                conn.execute(insert(settlement_lines_table).values(**values))
        except IntegrityError as exc:
            raise TransactionConflictError("this transaction id is already being handled") from exc
        except SQLAlchemyError as exc:
            raise StoreError(f"recording the settlement line failed ({type(exc).__name__})") from exc

    def mark_answered(self, transaction_id: str, *, at: dt.datetime) -> bool:
        """Record that the city's answer goes back; False when the line is no longer pending (another attempt
        at the same transaction failed it meanwhile): that answer must not be passed on."""
        c = settlement_lines_table.c
        statement = (
            update(settlement_lines_table)
            .where(c.transaction_id == transaction_id, c.status == LineStatus.PENDING.value)
            .values(answered_at=at)
        )
        return self._run(lambda conn: conn.execute(statement).rowcount) == 1

    def fail_line(self, transaction_id: str, *, reason: str, at: dt.datetime) -> bool:
        """Pending and never answered -> failed. A line whose answer was passed on is not failed by a later
        error of a repeated attempt (its kiosk may be printing); its completion report closes it."""
        c = settlement_lines_table.c
        statement = (
            update(settlement_lines_table)
            .where(
                c.transaction_id == transaction_id,
                c.status == LineStatus.PENDING.value,
                c.answered_at.is_(None),
            )
            .values(status=LineStatus.FAILED.value, failure=reason[:64], amount_yen=0, closed_at=at)
        )
        return self._run(lambda conn: conn.execute(statement).rowcount) == 1

    def close_lines(self, closings: Sequence[LineClosing], *, at: dt.datetime) -> set[str]:
        """Pending -> closed for each of CLOSINGS in ONE transaction (a batch costs one commit, not one per
        line), each by one conditional update, so a line another center process closed or
        failed meanwhile is left as it is; the ids this call changed."""
        c = settlement_lines_table.c

        def close_all(conn: Connection) -> set[str]:
            changed: set[str] = set()
            for closing in closings:
                statement = (
                    update(settlement_lines_table)
                    .where(c.transaction_id == closing.transaction_id, c.status == LineStatus.PENDING.value)
                    .values(
                        status=LineStatus.CLOSED.value,
                        outcome=closing.outcome,
                        copies_printed=closing.copies_printed,
                        copies_voided=closing.copies_voided,
                        amount_yen=closing.amount_yen,
                        closed_at=at,
                    )
                )
                if conn.execute(statement).rowcount == 1:
                    changed.add(closing.transaction_id)
            return changed

        return self._run(close_all) if closings else set()

    def settlement_rows(self, *, first_day: dt.date, last_day: dt.date) -> list[SettlementRow]:
        c = settlement_lines_table.c

        def count(status: LineStatus) -> Any:
            return func.sum(case((c.status == status.value, 1), else_=0))

        keys = (c.day, c.city, c.chain_id, c.kind)
        statement = (
            select(
                *keys,
                func.count().label("transactions"),
                count(LineStatus.CLOSED).label("closed"),
                count(LineStatus.FAILED).label("failed"),
                count(LineStatus.PENDING).label("pending"),
                func.sum(c.copies_printed).label("copies_printed"),
                func.sum(c.copies_voided).label("copies_voided"),
                func.sum(c.amount_yen).label("amount_yen"),
            )
            .where(c.day >= first_day, c.day <= last_day)
            .group_by(*keys)
            .order_by(*keys)
        )
        rows = self._run(lambda conn: conn.execute(statement).mappings().all())
        return [
            SettlementRow(
                day=row["day"],
                city=row["city"],
                chain_id=row["chain_id"],
                kind=row["kind"],
                transactions=int(row["transactions"]),
                closed=int(row["closed"]),
                failed=int(row["failed"]),
                pending=int(row["pending"]),
                copies_printed=int(row["copies_printed"]),
                copies_voided=int(row["copies_voided"]),
                amount_yen=int(row["amount_yen"]),
            )
            for row in rows
        ]

    def find_suspension(self, city: str) -> CitySuspension | None:
        statement = select(city_suspensions_table).where(city_suspensions_table.c.city == city)
        row = self._run(lambda conn: conn.execute(statement).mappings().first())
        if row is None:
            return None
        return CitySuspension(
            city=row["city"],
            reason=row["reason"],
            transaction_id=row["transaction_id"],
            suspended_at=row["suspended_at"],
        )

    def suspend_city(self, suspension: CitySuspension) -> None:
        """Record the suspension; a city already suspended keeps its first reason."""
        statement = insert(city_suspensions_table).values(
            city=suspension.city,
            reason=suspension.reason,
            transaction_id=suspension.transaction_id,
            suspended_at=suspension.suspended_at,
        )
        try:
            with self._engine.begin() as conn:
                conn.execute(statement)
        except IntegrityError:
            return
        except SQLAlchemyError as exc:
            raise StoreError(f"recording the suspension failed ({type(exc).__name__})") from exc

    def resume_city(self, city: str) -> bool:
        statement = delete(city_suspensions_table).where(city_suspensions_table.c.city == city)
        return self._run(lambda conn: conn.execute(statement).rowcount) == 1

    def _run(self, work: Callable[[Connection], _T]) -> _T:
        return in_transaction(self._engine, work, what="center store")


def _line(row: Any) -> SettlementLine:
    return SettlementLine(
        transaction_id=row["transaction_id"],
        request_digest=bytes(row["request_digest"]),
        challenge_hash=bytes(row["challenge_hash"]),
        day=row["day"],
        city=row["city"],
        chain_id=row["chain_id"],
        kiosk_id=row["kiosk_id"],
        kind=row["kind"],
        basis=row["basis"],
        copies=row["copies"],
        fee_yen=row["fee_yen"],
        created_at=row["created_at"],
        status=LineStatus(row["status"]),
        outcome=row["outcome"],
        copies_printed=row["copies_printed"],
        copies_voided=row["copies_voided"],
        amount_yen=row["amount_yen"],
        failure=row["failure"],
        answered_at=row["answered_at"],
        closed_at=row["closed_at"],
    )
