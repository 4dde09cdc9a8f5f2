"""The store HQ's ports: the ledger, the line to the center, the challenge line and the completion outbox."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from yakuba.storehq.service._billing import BillingLine, Closing
from yakuba.wire.messages import (
    ChallengeAnswer,
    ChallengeBatchAnswer,
    ChallengeBatchAsk,
    CompletionBatch,
    CompletionBatchAnswer,
    HistoryAnswer,
    RelayedIssuanceAnswer,
    TaggedHistorySubmission,
    TaggedSubmission,
)

__all__ = [
    "BillingLedger",
    "CenterLink",
    "ChallengeLine",
    "CompletionOutbox",
]


class BillingLedger(Protocol):
    """The HQ's billing lines (implemented by `yakuba.storehq.store.BillingStore`)."""

    def open_line(self, line: BillingLine) -> BillingLine:
        """Insert LINE as pending, or return the line already there for its transaction id (never overwrite)."""

    def record_fee(self, transaction_id: str, *, fee_per_copy: int, issuer_id: str) -> None:
        """Record the fee per copy and the issuer from the answer."""

    def close_line(self, transaction_id: str, closing: Closing) -> tuple[BillingLine, bool]:
        """Close a pending line; the line as it is afterwards and whether this call closed it (one transaction)."""

    def fetch_line(self, transaction_id: str) -> BillingLine | None:
        """The line of a transaction, if any."""

    def unreported(self, limit: int, *, closed_before: dt.datetime | None = None) -> list[BillingLine]:
        """Up to LIMIT closed lines the center has not answered (no reported_at, no report_error), oldest
        closed_at first; only those closed before CLOSED_BEFORE when given."""

    def mark_reported_many(self, transaction_ids: Sequence[str], *, at: dt.datetime) -> None:
        """Note that the center has these completions (closed now, or closed already)."""

    def mark_refused(self, transaction_id: str, code: str, *, at: dt.datetime) -> None:
        """Note the center's final refusal of a completion, by its error code: the line is not sent again."""


class CenterLink(Protocol):
    """The calls the HQ makes to the center over the dedicated line (each forwards ``Idempotency-Key``)."""

    async def challenges(self, ask: ChallengeBatchAsk) -> ChallengeBatchAnswer:
        """One-time challenges for several of our kiosks, one per entry in order (no ``Idempotency-Key``)."""

    async def submit(self, submission: TaggedSubmission) -> RelayedIssuanceAnswer:
        """Relay a tagged submission; the sealed answer comes back, its envelope as undecoded base64 text."""

    async def complete_batch(self, batch: CompletionBatch) -> CompletionBatchAnswer:
        """Send closed completions on together (``Idempotency-Key: <batch_id>``); one result per completion."""

    async def history(self, submission: TaggedHistorySubmission) -> HistoryAnswer:
        """Relay a tagged history request; the sealed envelopes come back."""


class ChallengeLine(Protocol):
    """Where a kiosk's ask for a challenge goes (`yakuba.storehq._challenges.ChallengeCoalescer`): asks that
    arrive together leave together, one call to the center at a time."""

    async def challenge(self, kiosk_id: str) -> ChallengeAnswer:
        """A challenge for KIOSK_ID alone, with the error of the center's call when that call fails."""


class CompletionOutbox(Protocol):
    """Where a closed line goes to be reported to the center (`yakuba.storehq._reporter.CompletionReporter`)."""

    def enqueue(self, line: BillingLine) -> None:
        """Report LINE soon, off the kiosk's path. Never blocks and never fails: the line is durable already,
        and a line not reported by this process is found in the ledger later."""
