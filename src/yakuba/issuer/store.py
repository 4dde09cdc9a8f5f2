"""The issuer's persistence: its issuance log (SQLAlchemy Core), and read transactions on the city's registry."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    RowMapping,
    String,
    Table,
    UniqueConstraint,
    func,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from yakuba.database import make_engine, migrate
from yakuba.errors import StoreError
from yakuba.issuer.audit_trail import AuditWrite
from yakuba.issuer.log_entry import MAX_SERIAL_NUMBER, EntryClosing, EntryStatus, LogEntry, NewEntry
from yakuba.registry import RegistryDatabase, SqlRegistryTransaction
from yakuba.registry.store import METADATA as REGISTRY_METADATA

__all__ = [
    "MIGRATIONS",
    "REASON_CHARS",
    "VERSION_TABLE",
    "IssuanceLogStore",
    "RegistryReader",
    "issuance_log",
]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "issuer_alembic_version"
"""The issuer's own Alembic version table, so it can share a database with other components."""

REASON_CHARS = 40
"""Width of the reason column: reason and error codes are short snake_case identifiers."""

_Id = BigInteger().with_variant(Integer(), "sqlite")

_metadata = MetaData()

issuance_log = Table(
    "issuance_log",
    _metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("transaction_id", String(40), nullable=False),
    # SHA-256 of the signed request: tells a retry from a different request under the same id.
    Column("request_digest", LargeBinary(32), nullable=False),
    # HMAC of the card certificate's fingerprint with the city's log key: never the serial.
    Column("card_hash", String(64), nullable=False),
    Column("kiosk_id", String(63), nullable=False),
    Column("chain_id", String(63), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("basis", String(16), nullable=False),
    Column("copies", Integer, nullable=False),
    Column("fee_yen", Integer, nullable=False),
    # HMAC of the person id with the city's log key: whose it was, only for whoever holds the key.
    Column("person_hash", String(64), nullable=True),
    Column("status", String(16), nullable=False),
    Column("reason", String(REASON_CHARS), nullable=True),
    Column("created_at", String(32), nullable=False),
    Column("serial", String(40), nullable=True),
    Column("pages", Integer, nullable=True),
    Column("issued_at", String(32), nullable=True),
    Column("content_digest", String(64), nullable=True),
    # The sealed envelope (ciphertext only: the issuer cannot open it), kept for retries until completion.
    Column("envelope", LargeBinary, nullable=True),
    Column("copies_printed", Integer, nullable=True),
    Column("copies_voided", Integer, nullable=True),
    Column("completed_at", String(32), nullable=True),
    # The audit log's keyed hash of the person (0002): the completion's audit entry names the same subject.
    Column("subject_hash", String(64), nullable=True),
    UniqueConstraint("transaction_id", name="issuance_log_transaction_id_key"),
    UniqueConstraint("serial", name="issuance_log_serial_key"),
)
"""One row per transaction the issuer saw after verifying its card; matches migrations 0001 and 0002."""


def _text(when: dt.datetime) -> str:
    if when.tzinfo is None:
        raise ValueError("naive datetime given to the issuance log")
    return when.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _time(text: str | None) -> dt.datetime | None:
    return None if text is None else dt.datetime.fromisoformat(text)


_ISSUING = issuance_log.c.status == literal_column(f"'{EntryStatus.ISSUING.value}'")
"""The predicate of the partial index issuance_log_issuing (migration 0004), written as a literal: a plan made
for a bound parameter (PostgreSQL's generic plan of a prepared statement) cannot prove the index's predicate."""

_ALL_COLUMNS = tuple(issuance_log.c)
_COLUMNS_BUT_ENVELOPE = tuple(c for c in issuance_log.c if c.name != "envelope")


def _entry(row: RowMapping) -> LogEntry:
    created = _time(row["created_at"])
    assert created is not None
    return LogEntry(
        id=row["id"],
        transaction_id=row["transaction_id"],
        request_digest=bytes(row["request_digest"]),
        card_hash=row["card_hash"],
        kiosk_id=row["kiosk_id"],
        chain_id=row["chain_id"],
        kind=row["kind"],
        basis=row["basis"],
        copies=row["copies"],
        fee_yen=row["fee_yen"],
        person_hash=row["person_hash"],
        status=EntryStatus(row["status"]),
        reason=row["reason"],
        created_at=created,
        serial=row["serial"],
        pages=row["pages"],
        issued_at=_time(row["issued_at"]),
        content_digest=row["content_digest"],
        envelope=None if row.get("envelope") is None else bytes(row["envelope"]),
        copies_printed=row["copies_printed"],
        copies_voided=row["copies_voided"],
        completed_at=_time(row["completed_at"]),
        subject_hash=row["subject_hash"],
    )


def _values(entry: NewEntry, *, status: EntryStatus, reason: str | None = None) -> dict[str, Any]:
    return {
        "transaction_id": entry.transaction_id,
        "request_digest": entry.request_digest,
        "card_hash": entry.card_hash,
        "kiosk_id": entry.kiosk_id,
        "chain_id": entry.chain_id,
        "kind": entry.kind,
        "basis": entry.basis,
        "copies": entry.copies,
        "fee_yen": entry.fee_yen,
        "person_hash": entry.person_hash,
        "subject_hash": entry.subject_hash,
        "status": status.value,
        "reason": reason,
        "created_at": _text(entry.created_at),
    }


class IssuanceLogStore:
    """The issuance log on SQLite or PostgreSQL; implements `yakuba.issuer.ports.IssuanceLog`.

    Every method is one short transaction of its own; the unique transaction id is what makes a concurrent
    duplicate lose (IntegrityError), on one node or many.
    """

    def __init__(self, *, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def from_url(cls, url: str) -> IssuanceLogStore:
        """Open the log at URL and bring its table to the newest migration."""
        store = cls(engine=make_engine(url))
        migrate(store.engine, script_location=MIGRATIONS, version_table=VERSION_TABLE)
        return store

    def dispose(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _begin(self) -> Iterator[Connection]:
        try:
            with self.engine.begin() as conn:
                yield conn
        except IntegrityError:
            raise
        except SQLAlchemyError as exc:
            raise StoreError(f"issuance log operation failed ({type(exc).__name__})") from exc

    def fetch_entry(self, transaction_id: str, *, with_envelope: bool = True) -> LogEntry | None:
        """The entry of TRANSACTION_ID, if any. WITH_ENVELOPE=False leaves the kept envelope (tens of kB) in the
        database, for callers that only judge the entry (a completion); its ``envelope`` is then None."""
        columns = _ALL_COLUMNS if with_envelope else _COLUMNS_BUT_ENVELOPE
        with self._begin() as conn:
            row = (
                conn.execute(select(*columns).where(issuance_log.c.transaction_id == transaction_id)).mappings().first()
            )
        return None if row is None else _entry(row)

    def fetch_entries(self, transaction_ids: Collection[str], *, with_envelope: bool = True) -> dict[str, LogEntry]:
        """The entries of those of TRANSACTION_IDS that exist, by transaction id, in one query (for a batch of
        completions; WITH_ENVELOPE as for `fetch_entry`)."""
        if not transaction_ids:
            return {}
        columns = _ALL_COLUMNS if with_envelope else _COLUMNS_BUT_ENVELOPE
        query = select(*columns).where(issuance_log.c.transaction_id.in_(sorted(set(transaction_ids))))
        with self._begin() as conn:
            rows = conn.execute(query).mappings().all()
        return {entry.transaction_id: entry for entry in map(_entry, rows)}

    def fetch_by_serial(self, serial: str) -> LogEntry | None:
        with self._begin() as conn:
            row = conn.execute(select(issuance_log).where(issuance_log.c.serial == serial)).mappings().first()
        return None if row is None else _entry(row)

    def count_entries(self, *, transaction_id: str | None = None) -> int:
        """Rows in the log (for one transaction id): how tests prove that a retry wrote nothing."""
        query = select(func.count()).select_from(issuance_log)
        if transaction_id is not None:
            query = query.where(issuance_log.c.transaction_id == transaction_id)
        with self._begin() as conn:
            return int(conn.execute(query).scalar_one())

    def reserve(self, entry: NewEntry, *, serial_prefix: str) -> LogEntry | None:
        """Insert ENTRY as issuing with its own serial (prefix + the row's id); None if the id is taken."""
        try:
            with self._begin() as conn:
                row_id = conn.execute(
                    insert(issuance_log)
                    .values(**_values(entry, status=EntryStatus.ISSUING))
                    .returning(issuance_log.c.id)
                ).scalar_one()
                if row_id > MAX_SERIAL_NUMBER:
                    raise StoreError("the issuer's document serials are exhausted; a new prefix is needed")
                serial = f"{serial_prefix}-{row_id:08d}"
                conn.execute(update(issuance_log).where(issuance_log.c.id == row_id).values(serial=serial))
                row = conn.execute(select(issuance_log).where(issuance_log.c.id == row_id)).mappings().one()
        except IntegrityError:
            return None
        return _entry(row)

    def record_refusal(self, entry: NewEntry, *, reason: str, audit: AuditWrite | None = None) -> None:
        """Insert ENTRY as refused with REASON (a code), and AUDIT in the same transaction; a transaction id
        already logged is left as it is (and audited no second time)."""
        try:
            with self._begin() as conn:
                conn.execute(insert(issuance_log).values(**_values(entry, status=EntryStatus.REFUSED, reason=reason)))
                if audit is not None:
                    audit.write(conn)
        except IntegrityError:
            return

    def mark_issued(
        self,
        entry_id: int,
        *,
        pages: int,
        issued_at: dt.datetime,
        content_digest: str,
        envelope: bytes,
        audit: AuditWrite | None = None,
    ) -> None:
        """Issuing -> issued, with AUDIT in the same transaction: if the entry cannot be written, the entry
        stays issuing (then failed) and no envelope is kept or answered."""
        with self._begin() as conn:
            done = conn.execute(
                update(issuance_log)
                .where(issuance_log.c.id == entry_id, issuance_log.c.status == EntryStatus.ISSUING.value)
                .values(
                    status=EntryStatus.ISSUED.value,
                    pages=pages,
                    issued_at=_text(issued_at),
                    content_digest=content_digest,
                    envelope=envelope,
                )
            )
            if done.rowcount != 1:
                raise StoreError("the log entry was not awaiting issuance")
            if audit is not None:
                audit.write(conn)

    def mark_failed(self, entry_id: int, *, reason: str) -> None:
        with self._begin() as conn:
            conn.execute(
                update(issuance_log)
                .where(issuance_log.c.id == entry_id)
                .values(status=EntryStatus.FAILED.value, reason=reason[:REASON_CHARS], envelope=None)
            )

    def fail_interrupted(self, *, reserved_before: dt.datetime, reason: str) -> int:
        """Mark failed, with REASON, every entry still `issuing` that was reserved before RESERVED_BEFORE (its
        process died between the reservation and the answer); the number marked. One conditional UPDATE: an
        entry that moves on meanwhile is left alone, and several processes may sweep at once."""
        with self._begin() as conn:
            done = conn.execute(
                update(issuance_log)
                .where(_ISSUING, issuance_log.c.created_at < _text(reserved_before))
                .values(status=EntryStatus.FAILED.value, reason=reason[:REASON_CHARS], envelope=None)
            )
            return int(done.rowcount)

    def close_many(self, closings: Sequence[EntryClosing]) -> list[bool]:
        """Set the outcome of each open entry CLOSINGS name and drop its envelope, each with its audit entry, all
        in ONE transaction; whether each closed, in their order.

        An entry not open (already closed) is left alone and not audited; but they commit together:
        a database failure rolls back every one of them, none is half written, and all may be sent again.
        """
        if not closings:
            return []
        with self._begin() as conn:
            return [_close_in(conn, closing) for closing in closings]


def _close_in(conn: Connection, closing: EntryClosing) -> bool:
    open_states = [EntryStatus.ISSUED.value]
    if closing.status is EntryStatus.ABANDONED:
        open_states.append(EntryStatus.ISSUING.value)
    done = conn.execute(
        update(issuance_log)
        .where(issuance_log.c.transaction_id == closing.transaction_id, issuance_log.c.status.in_(open_states))
        .values(
            status=closing.status.value,
            copies_printed=closing.copies_printed,
            copies_voided=closing.copies_voided,
            completed_at=_text(closing.at),
            envelope=None,
        )
    )
    if done.rowcount != 1:
        return False
    if closing.audit is not None:
        closing.audit.write(conn)
    return True


class _RegistryReads(SqlRegistryTransaction):
    """The registry's transaction plus the one read it lacks: which register a member belongs to."""

    def __init__(self, *, session: Session) -> None:
        super().__init__(session=session)
        self._session = session

    def fetch_register_id_of_member(self, member_id: int) -> int | None:
        members = REGISTRY_METADATA.tables["koseki_members"]
        value = self._session.execute(select(members.c.register_id).where(members.c.id == member_id)).scalar()
        return None if value is None else int(value)


class RegistryReader:
    """Read transactions on the city's registry of record; implements `yakuba.issuer.ports.RegistrySource`."""

    def __init__(self, *, db: RegistryDatabase) -> None:
        self.db = db

    @contextmanager
    def read(self) -> Iterator[_RegistryReads]:
        """One transaction: every read of one issuance sees the same state of the registry."""
        with self.db.session() as session:
            yield _RegistryReads(session=session)

    def dispose(self) -> None:
        self.db.dispose()
