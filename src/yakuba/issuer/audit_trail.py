"""The issuer's audit trail: the entries of each issuance change and history reading, and a resident's history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from yakuba.audit import RESIDENT_VISIBLE_FIELDS, Actor, AuditEntry, FieldValue, SubjectEvent, subject_key
from yakuba.clock import JST
from yakuba.database import in_transaction
from yakuba.wire.messages import HistoryOutcome, HistoryRecord

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

__all__ = [
    "EVENT_COMPLETED",
    "EVENT_HISTORY_READ",
    "EVENT_ISSUED",
    "EVENT_REFUSED",
    "HISTORY_EVENTS",
    "SUBJECT_REGISTER_MEMBER",
    "SUBJECT_RESIDENT",
    "AuditPort",
    "AuditWrite",
    "IssuerAudit",
    "SubjectRef",
]

EVENT_ISSUED = "issuance.issued"
EVENT_REFUSED = "issuance.refused"
EVENT_COMPLETED = "issuance.completed"
HISTORY_EVENTS = (EVENT_ISSUED, EVENT_REFUSED, EVENT_COMPLETED)
"""What a resident's history lists: their issuances, nothing else."""

EVENT_HISTORY_READ = "history.read"
"""A resident's issuance history was read at a kiosk (card verified end to end, PIN entered): an access to
personal data (which certificates someone obtained, where and when), so it leaves a trace as an issuance does,
and a stolen card and PIN used to look at someone's history shows afterwards. Not one of HISTORY_EVENTS: the
history's wire record (HistoryRecord) describes an issuance (a kind, an outcome, copies) and has no way to
say "read" without a new outcome, which kiosks already deployed would reject, losing the whole history; and a
list showing its own readings grows by one line each time it is looked at."""

SUBJECT_RESIDENT = "resident"
"""Subject kind of a resident of the city (their residence record id), as the registry's own log uses it."""
SUBJECT_REGISTER_MEMBER = "koseki_member"
"""Subject kind of a family-register member who does not live in the city (本籍地 requests)."""

_JOIN_FIELDS = RESIDENT_VISIBLE_FIELDS | {"transaction_id", "copies_printed"}
"""What the issuer reads back to build a history: the visible fields, plus the transaction id to join an
issuance with its completion and the copies printed. The id is used here only and never reaches the resident."""

_OUTCOMES = {o.value: o for o in HistoryOutcome}


class AuditPort(Protocol):
    """The issuer's audit log (yakuba.audit.AuditLog, in the issuer's own database)."""

    @property
    def engine(self) -> Engine:
        """The database the log lives in, where entries of an access that changes nothing else are committed."""

    def append(self, tx: Any, entry: AuditEntry) -> object:
        """Write ENTRY inside the caller's transaction TX; StoreError fails that transaction."""

    def entries_for_subject(
        self,
        subject_hash: str,
        *,
        event_types: Iterable[str] | None = None,
        visible_fields: frozenset[str] = RESIDENT_VISIBLE_FIELDS,
    ) -> list[SubjectEvent]:
        """A subject's own entries, oldest first, reduced to VISIBLE_FIELDS."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditWrite:
    """An entry the issuance log's store appends in the same transaction as the change it records."""

    log: AuditPort
    entry: AuditEntry

    def write(self, tx: Any) -> None:
        self.log.append(tx, self.entry)


@dataclass(frozen=True, slots=True)
class SubjectRef:
    """Whom an issuance is about, in the registry's terms: a kind and an id (never written anywhere in clear)."""

    kind: str
    value: str

    @classmethod
    def resident(cls, person_id: int) -> SubjectRef:
        return cls(SUBJECT_RESIDENT, str(person_id))

    @classmethod
    def register_member(cls, member_id: int) -> SubjectRef:
        return cls(SUBJECT_REGISTER_MEMBER, str(member_id))


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuerAudit:
    """The issuer's log with its subject secret and actor: builds its entries and reads residents' histories.

    Entries hold no personal data: the subject is `subject_key(secret, kind, id)`; fields are ids, kinds,
    counts, the store and the document serial. A refusal's reason is NOT an entry field: the history is shown
    at a kiosk, and a support measure (支援措置) must not be readable from it.
    """

    log: AuditPort
    subject_secret: bytes = field(repr=False)
    actor: Actor
    stores: Mapping[str, str] = field(default_factory=dict)
    """Kiosk id -> its location (store name), as configured: what the resident recognises."""

    def subject(self, ref: SubjectRef) -> str:
        return subject_key(self.subject_secret, ref.kind, ref.value)

    def issued(
        self,
        *,
        subject: str | None,
        at: dt.datetime,
        transaction_id: str,
        kind: str,
        city: str,
        kiosk_id: str,
        chain_id: str,
        copies: int,
        document_serial: str,
    ) -> AuditWrite:
        fields: dict[str, FieldValue] = {
            "transaction_id": transaction_id,
            "kind": kind,
            "city": city,
            "kiosk": kiosk_id,
            "chain": chain_id,
            "store": self.stores.get(kiosk_id, ""),
            "copies": copies,
            "document_serial": document_serial,
        }
        return self._write(EVENT_ISSUED, subject=subject, at=at, fields=fields)

    def refused(
        self,
        *,
        subject: str | None,
        at: dt.datetime,
        transaction_id: str,
        kind: str,
        city: str,
        kiosk_id: str,
        chain_id: str,
        copies: int,
    ) -> AuditWrite:
        fields: dict[str, FieldValue] = {
            "copies": copies,
            "transaction_id": transaction_id,
            "kind": kind,
            "city": city,
            "kiosk": kiosk_id,
            "chain": chain_id,
            "store": self.stores.get(kiosk_id, ""),
            "outcome": HistoryOutcome.REFUSED.value,
        }
        return self._write(EVENT_REFUSED, subject=subject, at=at, fields=fields)

    def completed(
        self,
        *,
        subject: str | None,
        at: dt.datetime,
        transaction_id: str,
        kind: str,
        city: str,
        kiosk_id: str,
        chain_id: str,
        outcome: str,
        copies_printed: int,
        copies_voided: int,
    ) -> AuditWrite:
        fields: dict[str, FieldValue] = {
            "transaction_id": transaction_id,
            "kind": kind,
            "city": city,
            "kiosk": kiosk_id,
            "chain": chain_id,
            "outcome": outcome,
            "copies_printed": copies_printed,
            "copies_voided": copies_voided,
        }
        return self._write(EVENT_COMPLETED, subject=subject, at=at, fields=fields)

    def history_read(
        self,
        *,
        subject: str,
        at: dt.datetime,
        transaction_id: str,
        city: str,
        kiosk_id: str,
        chain_id: str,
        records: int,
    ) -> AuditWrite:
        """The entry of one reading of SUBJECT's history: where, when, in which kiosk transaction and how many
        records the answer held; never which ones, nor anything of their content."""
        fields: dict[str, FieldValue] = {
            "transaction_id": transaction_id,
            "city": city,
            "kiosk": kiosk_id,
            "chain": chain_id,
            "records": records,
        }
        return self._write(EVENT_HISTORY_READ, subject=subject, at=at, fields=fields)

    def write_alone(self, writes: Sequence[AuditWrite]) -> None:
        """Append WRITES in one transaction of their own in the log's database, for an access that changes
        nothing else (a history reading): all of them are written or none, and a failure is a StoreError."""

        def work(conn: Connection) -> None:
            for write in writes:
                write.write(conn)

        in_transaction(self.log.engine, work, what="writing the audit entries")

    def _write(
        self, event_type: str, *, subject: str | None, at: dt.datetime, fields: dict[str, FieldValue]
    ) -> AuditWrite:
        entry = AuditEntry(event_type=event_type, actor=self.actor, time=at, subject=subject, fields=fields)
        return AuditWrite(log=self.log, entry=entry)

    def history(self, subjects: Iterable[str]) -> list[HistoryRecord]:
        """The issuances about SUBJECTS (one person's subject hashes), one record per transaction, oldest first.

        1. Read only the entries whose hashed body names one of these subjects (the log re-checks each body
           against its leaf hash): another person's entry cannot appear. Issuance events only (HISTORY_EVENTS,
           selected in the query, so readings never take a place under the log's page limit): the readings of
           the history (EVENT_HISTORY_READ) are audited but not listed.
        2. Join each issuance (or refusal) with its completion by transaction id, inside the issuer only.
        3. Keep time, kind, city, kiosk, chain, store, outcome and copies: no serial, no transaction id, no
           reason, no content.
        """
        events: list[SubjectEvent] = []
        for subject in dict.fromkeys(subjects):  # step 1
            events += self.log.entries_for_subject(subject, event_types=HISTORY_EVENTS, visible_fields=_JOIN_FIELDS)
        started: dict[str, SubjectEvent] = {}
        ended: dict[str, SubjectEvent] = {}
        for event in sorted(events, key=lambda e: e.time):  # step 2
            key = _text(event.fields.get("transaction_id"))
            if not key:
                continue
            if event.event_type == EVENT_COMPLETED:
                ended[key] = event
            else:
                started.setdefault(key, event)
        for key, event in ended.items():
            started.setdefault(key, event)  # abandoned before it was issued: the completion is the record
        records = [_record(start, ended.get(key)) for key, start in started.items()]  # step 3
        return sorted(records, key=lambda r: r.at)


def _record(start: SubjectEvent, end: SubjectEvent | None) -> HistoryRecord:
    fields = start.fields
    if start.event_type == EVENT_REFUSED:
        outcome, copies = HistoryOutcome.REFUSED, _number(fields.get("copies"))
    elif end is not None:
        outcome = _OUTCOMES.get(_text(end.fields.get("outcome")), HistoryOutcome.ISSUED)
        copies = (
            _number(end.fields.get("copies_printed"))
            if outcome is HistoryOutcome.PRINTED
            else _number(fields.get("copies"))
        )
    else:
        outcome, copies = HistoryOutcome.ISSUED, _number(fields.get("copies"))
    return HistoryRecord(
        at=start.time.astimezone(JST).isoformat(timespec="seconds"),
        kind=_text(fields.get("kind")),
        city=_text(fields.get("city")),
        kiosk_id=_text(fields.get("kiosk")),
        chain_id=_text(fields.get("chain")),
        store=_text(fields.get("store")),
        outcome=outcome,
        copies=copies,
    )


def _text(value: FieldValue) -> str:
    return value if isinstance(value, str) else ""


def _number(value: FieldValue) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
