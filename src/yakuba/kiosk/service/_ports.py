"""What the kiosk's logic needs from the outside: the card reader, the link to HQ, the printer, the local log."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from yakuba.wire.messages import (
    ChallengeAnswer,
    CompletionAnswer,
    CompletionReport,
    HistoryAnswer,
    HistorySubmission,
    IssuanceAnswer,
    IssuanceSubmission,
    Outcome,
)

__all__ = ["HqLink", "KioskCardReader", "KioskLog", "LogEntry", "Printer"]


class KioskCardReader(Protocol):
    """A reader holding the resident's card (`yakuba.pki.card.VirtualCardReader`, later a PC/SC reader)."""

    def select_jpki_ap(self) -> None: ...

    def read_auth_certificate(self) -> bytes: ...

    def pin_tries_left(self) -> int: ...

    def verify_pin(self, pin: str) -> None: ...

    def sign_digest(self, sha256_digest: bytes) -> bytes: ...

    def end_session(self) -> None:
        """The card is taken out: the selected application and any verified PIN are forgotten."""


class HqLink(Protocol):
    """The kiosk's calls to its chain's HQ (implemented over mTLS by `yakuba.kiosk.hq_client.HqClient`)."""

    async def challenge(self) -> ChallengeAnswer:
        """A one-time challenge for this kiosk."""

    async def submit(self, submission: IssuanceSubmission) -> IssuanceAnswer:
        """The signed submission, sent with ``Idempotency-Key: <transaction id>``."""

    async def complete(self, report: CompletionReport) -> CompletionAnswer:
        """The outcome, sent with ``Idempotency-Key: <transaction id>``."""

    async def history(self, submission: HistorySubmission) -> HistoryAnswer:
        """A resident's signed history request, sent with ``Idempotency-Key: <transaction id>``."""


class Printer(Protocol):
    """The kiosk's printer (`yakuba.kiosk.service.SpoolPrinter` simulates one)."""

    def print_copy(self, document: bytes, *, transaction_id: str, copy: int) -> Path:
        """Print one copy; PaperJamError if the sheet jams."""

    def discard(self, transaction_id: str) -> None:
        """Erase every spooled copy of the transaction."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LogEntry:
    """One line of the kiosk's local issuance log: no content, no card, no person."""

    transaction_id: str
    recorded_at: dt.datetime
    kind: str
    copies: int
    outcome: Outcome
    copies_printed: int
    copies_voided: int
    amount_yen: int
    reason: str
    reported: bool
    """Whether HQ acknowledged the completion; an unacknowledged one is for the operator to resend."""


class KioskLog(Protocol):
    """The kiosk's local log (implemented by `yakuba.kiosk.store.KioskLogStore`)."""

    def record(self, entry: LogEntry) -> None:
        """Append ENTRY."""
