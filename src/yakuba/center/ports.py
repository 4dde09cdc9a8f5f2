"""The center's values and seams: settlement lines and rows, suspensions, and the protocols CenterService is
built from (challenge store, card trust source, the cities' forwarders, the settlement store)."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from yakuba.errors import ValidationError
from yakuba.pki import CardTrust
from yakuba.wire.messages import (
    CompletionBatch,
    CompletionBatchAnswer,
    HistoryAnswer,
    RelayedIssuanceAnswer,
    RoutedSubmission,
    TaggedHistorySubmission,
)

if TYPE_CHECKING:
    from yakuba.wire.challenge import Challenge

__all__ = [
    "ChainView",
    "Challenges",
    "CitySuspension",
    "Forwarders",
    "LineClosing",
    "LineStatus",
    "SettlementLine",
    "SettlementRow",
    "SettlementStore",
    "TrustSource",
    "month_bounds",
]


class LineStatus(enum.StrEnum):
    """Where a settlement line stands."""

    PENDING = "pending"
    """Checked and routed; waiting for the kiosk's completion report."""
    CLOSED = "closed"
    """Completed: printed copies x fee, or 0 yen when voided or abandoned."""
    FAILED = "failed"
    """Aborted on an error or refusal anywhere in the chain: never charged."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SettlementLine:
    """One transaction as the center accounts for it: ids, city, chain, kind, counts, yen, hashes; nothing personal."""

    transaction_id: str
    request_digest: bytes
    """SHA-256 of the signed request: a repeat with another request under the same id is refused."""
    challenge_hash: bytes
    """SHA-256 of the challenge it consumed: a repeat must present the same one."""
    day: dt.date
    """The JST day the transaction started: the day it is settled under."""
    city: str
    chain_id: str
    kiosk_id: str
    kind: str
    basis: str
    copies: int
    fee_yen: int
    """Per copy, from the catalogue when the request was routed."""
    created_at: dt.datetime
    status: LineStatus = LineStatus.PENDING
    outcome: str | None = None
    copies_printed: int = 0
    copies_voided: int = 0
    amount_yen: int = 0
    failure: str | None = None
    """The error code that aborted the transaction."""
    answered_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LineClosing:
    """How a completion report closes one pending line: its outcome, counts and the yen charged."""

    transaction_id: str
    outcome: str
    copies_printed: int
    copies_voided: int
    amount_yen: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SettlementRow:
    """Totals for one (day, city, chain, kind): what the city and the chain reconcile."""

    day: dt.date
    city: str
    chain_id: str
    kind: str
    transactions: int
    closed: int
    failed: int
    pending: int
    copies_printed: int
    copies_voided: int
    amount_yen: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CitySuspension:
    """Issuance for a city stopped after an integrity error, until an operator resumes it."""

    city: str
    reason: str
    transaction_id: str
    suspended_at: dt.datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainView:
    """What the center knows of a chain: its id, its HQ instance, its kiosks."""

    chain_id: str
    hq_instance: str
    kiosks: frozenset[str]


class Challenges(Protocol):
    """The one-time challenge store (yakuba.wire.ChallengeStore), shared by every center process."""

    def issue_many(self, for_instances: Sequence[str]) -> list[Challenge]:
        """One challenge per entry, in order, bound to that entry's kiosk, all in one database transaction."""

    def consume(self, value: bytes, for_instance: str) -> None: ...


class TrustSource(Protocol):
    """The card trust with current revocation status (the CRL cache)."""

    async def trust(self) -> CardTrust: ...


class Forwarders(Protocol):
    """The cities' forwarding servers over LGWAN."""

    async def submit(self, city: str, submission: RoutedSubmission) -> RelayedIssuanceAnswer: ...

    async def complete_batch(self, city: str, batch: CompletionBatch) -> CompletionBatchAnswer: ...

    async def history(self, city: str, submission: TaggedHistorySubmission) -> HistoryAnswer: ...


class SettlementStore(Protocol):
    """Settlement lines and city suspensions, in the center's database (shared by every center process)."""

    def find_line(self, transaction_id: str) -> SettlementLine | None: ...

    def find_lines(self, transaction_ids: Collection[str]) -> dict[str, SettlementLine]:
        """The lines of those ids that exist, by id, in one query."""

    def open_line(self, line: SettlementLine) -> None:
        """Insert a pending line; TransactionConflictError if the id exists."""

    def mark_answered(self, transaction_id: str, *, at: dt.datetime) -> bool:
        """Pending stays pending, with the time its answer went back; False if it is no longer pending."""

    def fail_line(self, transaction_id: str, *, reason: str, at: dt.datetime) -> bool:
        """Pending and unanswered -> failed; whether this call changed it."""

    def close_lines(self, closings: Sequence[LineClosing], *, at: dt.datetime) -> set[str]:
        """Pending -> closed for each, in one database transaction; the ids this call changed."""

    def settlement_rows(self, *, first_day: dt.date, last_day: dt.date) -> list[SettlementRow]: ...

    def find_suspension(self, city: str) -> CitySuspension | None: ...

    def suspend_city(self, suspension: CitySuspension) -> None: ...

    def resume_city(self, city: str) -> bool: ...


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    """The first and last day of MONTH ('YYYY-MM'); ValidationError otherwise."""
    try:
        first = dt.date.fromisoformat(f"{month}-01")
    except ValueError as exc:
        raise ValidationError("month must be YYYY-MM", ja="月は YYYY-MM の形式で指定してください") from exc
    if len(month) != len("YYYY-MM"):
        raise ValidationError("month must be YYYY-MM", ja="月は YYYY-MM の形式で指定してください")
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return first, following - dt.timedelta(days=1)
