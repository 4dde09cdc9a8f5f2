"""The issuance log's values: a transaction's status and record, the serial scheme, what verification shows."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

from yakuba.documents import SerialStatus
from yakuba.errors import NotFoundError, ValidationError
from yakuba.wire.messages import Outcome

if TYPE_CHECKING:
    from yakuba.issuer.audit_trail import AuditWrite

__all__ = [
    "MAX_SERIAL_NUMBER",
    "DocumentStatus",
    "EntryClosing",
    "EntryStatus",
    "LogEntry",
    "NewEntry",
    "document_status_of",
    "serial_prefix",
]

MAX_SERIAL_NUMBER = 99_999_999
"""Document serials are `PPPP-NNNNNNNN` (yakuba.documents.SERIAL_PATTERN): eight digits per issuer."""

_SYSTEM_LETTER = {"juki": "J", "koseki": "K"}


def serial_prefix(*, city_code: str, system: str) -> str:
    """The 4-character serial prefix of one issuer: its system's letter and the city's municipal digits, so a
    serial alone tells a verifier which city and which system to ask."""
    letter = _SYSTEM_LETTER.get(system)
    if letter is None:
        raise ValidationError(f"unknown issuer system {system!r}")
    return letter + city_code[2:5]


class EntryStatus(enum.StrEnum):
    """Where a transaction stands in the issuance log."""

    ISSUING = "issuing"
    """Reserved: the document is being rendered and sealed."""
    ISSUED = "issued"
    """Sealed and answered; the envelope is kept until the kiosk reports completion."""
    REFUSED = "refused"
    """Refused after the card was verified; `reason` holds the code."""
    FAILED = "failed"
    """An error after the reservation; nothing was answered, nothing may be picked up."""
    PRINTED = Outcome.PRINTED.value
    JAM_VOIDED = Outcome.JAM_VOIDED.value
    ABANDONED = Outcome.ABANDONED.value

    @property
    def is_completed(self) -> bool:
        return self in (EntryStatus.PRINTED, EntryStatus.JAM_VOIDED, EntryStatus.ABANDONED)


@dataclass(frozen=True, slots=True, kw_only=True)
class NewEntry:
    """What the log records when a transaction is first seen: ids, kind, fee, hashes; never content or names."""

    transaction_id: str
    request_digest: bytes
    card_hash: str
    kiosk_id: str
    chain_id: str
    kind: str
    basis: str
    copies: int
    fee_yen: int
    person_hash: str | None
    created_at: dt.datetime
    subject_hash: str | None = None
    """The audit log's subject of the person (yakuba.issuer.audit_trail), so the completion's entry names them too."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EntryClosing:
    """How one completion report closes an open entry: its outcome, counts, time and audit entry."""

    transaction_id: str
    status: EntryStatus
    copies_printed: int
    copies_voided: int
    at: dt.datetime
    audit: AuditWrite | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LogEntry:
    """One row of the issuance log."""

    id: int
    transaction_id: str
    request_digest: bytes
    card_hash: str
    kiosk_id: str
    chain_id: str
    kind: str
    basis: str
    copies: int
    fee_yen: int
    person_hash: str | None
    status: EntryStatus
    reason: str | None
    created_at: dt.datetime
    serial: str | None
    pages: int | None
    issued_at: dt.datetime | None
    content_digest: str | None
    envelope: bytes | None = dataclasses.field(repr=False)
    copies_printed: int | None
    copies_voided: int | None
    completed_at: dt.datetime | None
    subject_hash: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentStatus:
    """What `GET /v1/documents/{serial}` tells a receiving company: no personal data."""

    serial_status: SerialStatus
    status: EntryStatus

    def answer(self) -> dict[str, str | bool]:
        return {**self.serial_status.answer(), "status": self.status.value}


def document_status_of(entry: LogEntry | None, *, serial: str, city_code: str) -> DocumentStatus:
    """What a verifier may learn of SERIAL from its log ENTRY (the issuer's endpoint and the city's verification
    page answer the same); NotFoundError when nothing was issued under it."""
    if entry is None or entry.issued_at is None or entry.content_digest is None:
        raise NotFoundError(
            "no certificate with this serial was issued here", ja="この番号の証明書は発行されていません"
        )
    status = SerialStatus(
        serial=serial,
        city_code=city_code,
        kind=entry.kind,
        issued_at=entry.issued_at,
        content_digest=entry.content_digest,
        revoked=entry.status in (EntryStatus.JAM_VOIDED, EntryStatus.ABANDONED, EntryStatus.FAILED),
    )
    return DocumentStatus(serial_status=status, status=entry.status)
