"""The log in SQL: appends inside the caller's transaction, reads, proofs and the residents' own history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from yakuba.audit._entry import AuditEntry, FieldValue, _format_time
from yakuba.audit._merkle import EMPTY_ROOT, consistency_proof, inclusion_proof, leaf_hash
from yakuba.audit._note import NoteSignature, parse_note
from yakuba.audit._store._tables import checkpoints, entries, state
from yakuba.audit._store._tree import TileReader
from yakuba.audit.errors import EntryNotFoundError, LogIntegrityError, LogMismatchError
from yakuba.database import migrate
from yakuba.errors import NotFoundError, StoreError, ValidationError

__all__ = [
    "MAX_HISTORY_ENTRIES",
    "MIGRATIONS",
    "RESIDENT_VISIBLE_FIELDS",
    "VERSION_TABLE",
    "AppendedEntry",
    "AuditLog",
    "ConsistencyProof",
    "InclusionProof",
    "StoredEntry",
    "SubjectEvent",
    "TreeState",
]

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
VERSION_TABLE = "audit_alembic_version"

MAX_HISTORY_ENTRIES = 1000
"""A resident's history page: decades of certificates fit; a runaway query does not."""

RESIDENT_VISIBLE_FIELDS = frozenset({"store", "chain", "kiosk", "city", "kind", "outcome", "copies"})
"""What a resident sees of an entry about them: where, what kind and how it ended. Not staff ids, not
internal references, and never the certificate's content (which the log does not hold anyway)."""

TxLike = Connection | Session


def _conn(tx: TxLike) -> Connection:
    return tx.connection() if isinstance(tx, Session) else tx


@dataclass(frozen=True, slots=True, kw_only=True)
class AppendedEntry:
    """An entry written (not yet committed: it commits with the caller's transaction)."""

    entry_id: int
    leaf_hash: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class TreeState:
    """The integrated tree: its size and root, as of the last checkpoint."""

    origin: str
    size: int
    root_hash: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredEntry:
    """An entry as stored: its position in the tree (None while pending) and the parsed leaf."""

    entry_id: int
    leaf_index: int | None
    leaf_hash: bytes
    entry: AuditEntry


@dataclass(frozen=True, slots=True, kw_only=True)
class SubjectEvent:
    """One line of a resident's own history: when, what, who (role and instance), where and which kind."""

    leaf_index: int | None
    event_type: str
    time: dt.datetime
    actor_role: str
    actor_instance: str
    fields: Mapping[str, FieldValue]


@dataclass(frozen=True, slots=True, kw_only=True)
class InclusionProof:
    """Proof that one leaf is in the tree of `tree_size` leaves, with that size's signed checkpoint."""

    leaf_index: int
    tree_size: int
    leaf_hash: bytes
    hashes: tuple[bytes, ...]
    checkpoint: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsistencyProof:
    """Proof that the tree of `new_size` extends the tree of `old_size`, with both signed checkpoints."""

    old_size: int
    new_size: int
    hashes: tuple[bytes, ...]
    old_checkpoint: str | None
    new_checkpoint: str


_INSERT_ENTRY = insert(entries)


class AuditLog:
    """One transparency log, held in the tables of one database (the one its users write their changes to).

    Appends go into the caller's own transaction (`append`); a separate integrator (one per log, see
    `Integrator`) sequences them into the Merkle tree and signs a checkpoint every second.
    """

    def __init__(self, *, engine: Engine, origin: str) -> None:
        self.engine = engine
        self.origin = origin

    @classmethod
    def open(cls, *, engine: Engine, origin: str, now: dt.datetime | None = None) -> AuditLog:
        """Migrate the audit tables and bind them to ORIGIN; refuses a database holding another log."""
        migrate(engine, script_location=MIGRATIONS, version_table=VERSION_TABLE)
        when = _format_time(now or dt.datetime.now(dt.UTC))
        try:
            with engine.begin() as conn:
                found = conn.execute(select(state.c.origin).where(state.c.id == 1)).scalar_one_or_none()
                if found is None:
                    conn.execute(
                        insert(state).values(id=1, origin=origin, tree_size=0, root_hash=EMPTY_ROOT, integrated_at=when)
                    )
                    found = origin
        except IntegrityError:  # another process created it first
            return cls.open(engine=engine, origin=origin, now=now)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot open the audit log ({type(exc).__name__})") from exc
        if found != origin:
            raise LogMismatchError("this database holds another audit log")
        return cls(engine=engine, origin=origin)

    @classmethod
    def attach(cls, *, engine: Engine) -> AuditLog:
        """The log already in ENGINE's database, whatever its origin (for read-only tools)."""
        try:
            with engine.connect() as conn:
                origin = conn.execute(select(state.c.origin).where(state.c.id == 1)).scalar_one_or_none()
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot read the audit log ({type(exc).__name__})") from exc
        if origin is None:
            raise NotFoundError("this database holds no audit log")
        return cls(engine=engine, origin=origin)

    # -- writing ---------------------------------------------------------------------------------------

    def append(self, tx: TxLike, entry: AuditEntry) -> AppendedEntry:
        """Write ENTRY inside the caller's transaction TX (a Connection or a Session).

        1. Encode the entry canonically and compute its RFC 6962 leaf hash now, so what commits is
           exactly what will be in the tree: stops a body being swapped between append and integration.
        2. INSERT with a database-assigned id, in TX: the entry commits or rolls back together with the
           caller's change (never an issuance without its entry, never an entry for a rolled-back one),
           and any number of processes may append at once.
        3. A database failure raises StoreError, which fails the caller's unit of work.
        """
        row = _row(entry, entry.canonical_bytes())  # step 1
        try:
            result = _conn(tx).execute(_INSERT_ENTRY, row)  # step 2
        except SQLAlchemyError as exc:  # step 3
            raise StoreError(f"writing the audit entry failed ({type(exc).__name__})") from exc
        (entry_id,) = result.inserted_primary_key or (None,)
        if entry_id is None:
            raise StoreError("the database assigned no audit entry id")
        return AppendedEntry(entry_id=int(entry_id), leaf_hash=row["leaf_hash"])

    def append_many(self, tx: TxLike, batch: Sequence[AuditEntry]) -> int:
        """Write several entries in TX with one statement; same guarantees as `append`."""
        rows = [_row(e, e.canonical_bytes()) for e in batch]
        if not rows:
            return 0
        try:
            _conn(tx).execute(_INSERT_ENTRY, rows)
        except SQLAlchemyError as exc:
            raise StoreError(f"writing the audit entries failed ({type(exc).__name__})") from exc
        return len(rows)

    def add_cosignature(self, *, tree_size: int, signature: NoteSignature) -> str:
        """Attach a witness cosignature to the stored checkpoint of TREE_SIZE; returns the new note."""
        with self._read() as conn:
            note = conn.execute(
                select(checkpoints.c.note).where(checkpoints.c.tree_size == tree_size)
            ).scalar_one_or_none()
            if note is None:
                raise NotFoundError(f"no checkpoint of size {tree_size}")
            new_note = parse_note(note).with_signature(signature).format()
            conn.execute(update(checkpoints).where(checkpoints.c.tree_size == tree_size).values(note=new_note))
            conn.commit()
        return new_note

    # -- reading ---------------------------------------------------------------------------------------

    def _read(self) -> Connection:
        try:
            return self.engine.connect()
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot read the audit log ({type(exc).__name__})") from exc

    def tree_state(self) -> TreeState:
        with self._read() as conn:
            row = conn.execute(
                select(state.c.origin, state.c.tree_size, state.c.root_hash).where(state.c.id == 1)
            ).one_or_none()
        if row is None:
            raise NotFoundError("this database holds no audit log")
        return TreeState(origin=row.origin, size=row.tree_size, root_hash=bytes(row.root_hash))

    def pending_count(self) -> int:
        with self._read() as conn:
            return int(conn.execute(select(func.count()).where(entries.c.leaf_index.is_(None))).scalar_one())

    def checkpoint(self, tree_size: int | None = None) -> str | None:
        """The signed checkpoint note of TREE_SIZE (default: the latest), or None for an empty log."""
        query = select(checkpoints.c.note)
        if tree_size is None:
            query = query.order_by(checkpoints.c.tree_size.desc()).limit(1)
        else:
            query = query.where(checkpoints.c.tree_size == tree_size)
        with self._read() as conn:
            note = conn.execute(query).scalar_one_or_none()
        if note is None and tree_size is not None:
            raise NotFoundError(f"no checkpoint of size {tree_size}")
        return note

    def entries(self, *, start: int = 0, limit: int = 50) -> list[StoredEntry]:
        """Integrated entries from leaf index START, in tree order."""
        query = (
            select(entries.c.id, entries.c.leaf_index, entries.c.leaf_hash, entries.c.body)
            .where(entries.c.leaf_index >= start)
            .order_by(entries.c.leaf_index)
            .limit(limit)
        )
        with self._read() as conn:
            return [_stored(r.id, r.leaf_index, r.leaf_hash, r.body) for r in conn.execute(query)]

    def entry(self, leaf_index: int) -> StoredEntry:
        found = self.entries(start=leaf_index, limit=1)
        if not found or found[0].leaf_index != leaf_index:
            raise EntryNotFoundError(f"no integrated entry at index {leaf_index}")
        return found[0]

    def inclusion_proof(self, leaf_index: int, *, tree_size: int | None = None) -> InclusionProof:
        """Proof for the entry at LEAF_INDEX against a signed checkpoint (default: the latest)."""
        with self._read() as conn:
            size, note = self._checkpoint_row(conn, tree_size)
            if not 0 <= leaf_index < size:
                raise EntryNotFoundError(f"no entry at index {leaf_index} in the tree of size {size}")
            stored = conn.execute(
                select(entries.c.leaf_hash).where(entries.c.leaf_index == leaf_index)
            ).scalar_one_or_none()
            if stored is None:
                raise LogIntegrityError("the entry at this index is missing", index=leaf_index)
            hashes = inclusion_proof(leaf_index, size, TileReader(conn))
        return InclusionProof(
            leaf_index=leaf_index, tree_size=size, leaf_hash=bytes(stored), hashes=tuple(hashes), checkpoint=note
        )

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> ConsistencyProof:
        """Proof that the signed tree of NEW_SIZE (default: latest) extends the tree of OLD_SIZE."""
        with self._read() as conn:
            size, note = self._checkpoint_row(conn, new_size)
            if not 0 <= old_size <= size:
                raise ValidationError(f"no consistency proof from size {old_size} to size {size}")
            old_note = None
            if old_size:
                old_note = conn.execute(
                    select(checkpoints.c.note).where(checkpoints.c.tree_size == old_size)
                ).scalar_one_or_none()
            hashes = consistency_proof(old_size, size, TileReader(conn))
        return ConsistencyProof(
            old_size=old_size, new_size=size, hashes=tuple(hashes), old_checkpoint=old_note, new_checkpoint=note
        )

    def _checkpoint_row(self, conn: Connection, tree_size: int | None) -> tuple[int, str]:
        query = select(checkpoints.c.tree_size, checkpoints.c.note)
        if tree_size is None:
            query = query.order_by(checkpoints.c.tree_size.desc()).limit(1)
        else:
            query = query.where(checkpoints.c.tree_size == tree_size)
        row = conn.execute(query).one_or_none()
        if row is None:
            raise NotFoundError("no such checkpoint" if tree_size is not None else "the log has no checkpoint yet")
        return int(row.tree_size), str(row.note)

    def entries_for_subject(
        self,
        subject_hash: str,
        *,
        event_types: Iterable[str] | None = None,
        visible_fields: frozenset[str] = RESIDENT_VISIBLE_FIELDS,
        limit: int = MAX_HISTORY_ENTRIES,
    ) -> list[SubjectEvent]:
        """A subject's own entries, reduced to what the subject may see (residents' access history).

        1. Accept only a subject hash, never an id: stops a query by name or number reaching the log.
        2. Select by the indexed subject column, oldest first, at most LIMIT rows.
        3. Re-derive each row from its hashed body and require the body's own subject to be the one
           asked for and its leaf hash to match: stops a tampered index column from putting another
           person's entry into this history.
        4. Return only role, instance, time, event type and VISIBLE_FIELDS: stops staff ids or internal
           references leaking to the resident.
        """
        if len(subject_hash) != 64 or any(c not in "0123456789abcdef" for c in subject_hash):  # step 1
            raise ValidationError("ask for a subject by its subject_key hash")
        limit = min(limit, MAX_HISTORY_ENTRIES)
        query = (
            select(entries.c.leaf_index, entries.c.leaf_hash, entries.c.body)
            .where(entries.c.subject_hash == subject_hash)
            .order_by(entries.c.event_time, entries.c.id)
            .limit(limit)
        )  # step 2
        types = set(event_types) if event_types is not None else None
        if types is not None:
            query = query.where(entries.c.event_type.in_(sorted(types)))
        out: list[SubjectEvent] = []
        with self._read() as conn:
            rows = conn.execute(query).all()
        for row in rows:
            body = bytes(row.body)
            entry = AuditEntry.from_canonical_bytes(body)  # step 3
            if entry.subject != subject_hash or leaf_hash(body) != bytes(row.leaf_hash):
                raise LogIntegrityError("an entry's index disagrees with its hashed body", index=row.leaf_index)
            if types is not None and entry.event_type not in types:
                continue
            out.append(
                SubjectEvent(  # step 4
                    leaf_index=row.leaf_index,
                    event_type=entry.event_type,
                    time=entry.time,
                    actor_role=entry.actor.role,
                    actor_instance=entry.actor.instance,
                    fields={k: v for k, v in entry.fields.items() if k in visible_fields},
                )
            )
        return out


class _EntryRow(TypedDict):
    leaf_hash: bytes
    body: bytes
    event_type: str
    subject_hash: str | None
    event_time: str


def _row(entry: AuditEntry, data: bytes) -> _EntryRow:
    return {
        "leaf_hash": leaf_hash(data),
        "body": data,
        "event_type": entry.event_type,
        "subject_hash": entry.subject,
        "event_time": entry.time_text,
    }


def _stored(entry_id: int, leaf_index: int | None, stored_hash: bytes, body: bytes) -> StoredEntry:
    return StoredEntry(
        entry_id=entry_id,
        leaf_index=leaf_index,
        leaf_hash=bytes(stored_hash),
        entry=AuditEntry.from_canonical_bytes(bytes(body)),
    )
