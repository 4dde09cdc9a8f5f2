"""The seams the issuer works through: its log, the registry's live reads, the card trust, the document press."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Collection, Sequence
from contextlib import AbstractContextManager
from typing import Protocol

from yakuba.documents import DocumentRequest, DocumentSigner, IssuedDocument, RenderEngine, issue_document
from yakuba.issuer.audit_trail import AuditWrite
from yakuba.issuer.log_entry import EntryClosing, LogEntry, NewEntry
from yakuba.issuer.service_controls import ServiceControl
from yakuba.pki import CardTrust
from yakuba.registry import (
    CardBinding,
    HonsekiUseRegistration,
    HouseholdView,
    KosekiMember,
    KosekiRegister,
    Person,
    RegisterAddressEntry,
    SealRegistration,
    TaxStatement,
)

__all__ = [
    "CardTrustSource",
    "DocumentPress",
    "IssuanceLog",
    "RegistryReads",
    "RegistrySource",
    "ServiceControlSource",
]


class IssuanceLog(Protocol):
    """The issuer's own log (yakuba.issuer.store): one row per transaction id, which is unique in it. An
    AUDIT entry given to a change is appended in that change's own transaction (yakuba.issuer.audit_trail)."""

    def fetch_entry(self, transaction_id: str, *, with_envelope: bool = True) -> LogEntry | None: ...
    def fetch_entries(self, transaction_ids: Collection[str], *, with_envelope: bool = True) -> dict[str, LogEntry]: ...
    def fetch_by_serial(self, serial: str) -> LogEntry | None: ...
    def reserve(self, entry: NewEntry, *, serial_prefix: str) -> LogEntry | None: ...
    def record_refusal(self, entry: NewEntry, *, reason: str, audit: AuditWrite | None = None) -> None: ...
    def mark_issued(
        self,
        entry_id: int,
        *,
        pages: int,
        issued_at: dt.datetime,
        content_digest: str,
        envelope: bytes,
        audit: AuditWrite | None = None,
    ) -> None: ...
    def mark_failed(self, entry_id: int, *, reason: str) -> None: ...
    def fail_interrupted(self, *, reserved_before: dt.datetime, reason: str) -> int: ...
    def close_many(self, closings: Sequence[EntryClosing]) -> list[bool]: ...


class RegistryReads(Protocol):
    """The live registry reads one issuance makes, all inside one registry transaction."""

    def fetch_card(self, serial: str) -> CardBinding | None: ...
    def fetch_person_by_card_serial(self, serial: str) -> Person: ...
    def fetch_person(self, person_id: int) -> Person: ...
    def fetch_household_for_certificate(self, person_id: int) -> HouseholdView: ...
    def fetch_live_seal(self, person_id: int) -> SealRegistration | None: ...
    def fetch_tax_statement(self, *, person_id: int, fiscal_year: int) -> TaxStatement | None: ...
    def fetch_honseki_use(self, serial: str) -> HonsekiUseRegistration | None: ...
    def fetch_register(self, register_id: int) -> KosekiRegister: ...
    def fetch_member_of_person(self, person_id: int) -> KosekiMember | None: ...
    def fetch_register_id_of_member(self, member_id: int) -> int | None: ...
    def fetch_register_address_history(self, register_id: int) -> tuple[RegisterAddressEntry, ...]: ...


class RegistrySource(Protocol):
    """Opens one read transaction on the city's registry (a consistent snapshot of the live data)."""

    def read(self) -> AbstractContextManager[RegistryReads]: ...


class CardTrustSource(Protocol):
    """The JPKI anchors with the newest CRL (yakuba.issuer.trust.ReloadingCardTrust)."""

    def current(self) -> CardTrust: ...


class ServiceControlSource(Protocol):
    """The city's service controls (yakuba.issuer.controls_store), set from its operations console."""

    def active_controls(self, at: dt.datetime) -> list[ServiceControl]: ...


class DocumentPress:
    """The process's one RenderEngine and one DocumentSigner; one document at a time.

    The lock: typst's compiler object is reused for speed and is not documented as safe for concurrent
    use, and a render is CPU work that gains nothing from running two at once under the GIL. It is held
    only around rendering and signing, never around registry reads or the log.
    """

    def __init__(self, *, engine: RenderEngine, signer: DocumentSigner) -> None:
        self._engine = engine
        self._signer = signer
        self._lock = threading.Lock()

    def issue(self, request: DocumentRequest) -> IssuedDocument:
        with self._lock:
            return issue_document(request, engine=self._engine, signer=self._signer)
