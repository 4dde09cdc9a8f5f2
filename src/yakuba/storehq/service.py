"""The store HQ gateway's logic: admit only its own kiosks, tag their requests with the chain, keep billing lines."""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from yakuba.clock import JST, Clock
from yakuba.config import Deployment
from yakuba.errors import ConfigError, UpstreamError, ValidationError
from yakuba.storehq.errors import KioskNotServedError, TransactionConflictError, UnknownTransactionError
from yakuba.wire.digest import request_digest
from yakuba.wire.messages import (
    ChallengeAnswer,
    ChallengeBatchAnswer,
    ChallengeBatchAsk,
    CompletionAnswer,
    CompletionBatch,
    CompletionBatchAnswer,
    CompletionReport,
    HistoryAnswer,
    HistorySubmission,
    IssuanceSubmission,
    Outcome,
    RelayedIssuanceAnswer,
    TaggedCompletion,
    TaggedHistorySubmission,
    TaggedSubmission,
)

__all__ = [
    "BILLING_TIMEZONE",
    "BillingLedger",
    "BillingLine",
    "BillingStatus",
    "CenterLink",
    "ChallengeLine",
    "Closing",
    "CompletionOutbox",
    "StoreHq",
    "completion_of",
]

_log = logging.getLogger("yakuba.storehq")

BILLING_TIMEZONE = JST
"""A billing line belongs to the store's business day, the Japanese calendar day (settlement is per day and month)."""


class BillingStatus(enum.StrEnum):
    """Where a billing line stands."""

    PENDING = "pending"
    """Relayed; the kiosk has not reported the outcome yet."""
    PRINTED = "printed"
    """At least one copy printed; the fee for the printed copies was collected."""
    VOIDED = "voided"
    """Every copy jammed and was voided; nothing collected."""
    ABANDONED = "abandoned"
    """Refused or cancelled before printing; nothing collected."""


_STATUS_OF_OUTCOME = {
    Outcome.PRINTED: BillingStatus.PRINTED,
    Outcome.JAM_VOIDED: BillingStatus.VOIDED,
    Outcome.ABANDONED: BillingStatus.ABANDONED,
}
_OUTCOME_OF_STATUS = {status: outcome for outcome, status in _STATUS_OF_OUTCOME.items()}


@dataclass(frozen=True, slots=True, kw_only=True)
class BillingLine:
    """One transaction as the HQ bills it: ids, day, city, kind, copies, fee, status. Nothing personal.

    ``submission_digest`` is the SHA-256 of the kiosk's submission: it recognises a retry without keeping the
    submission (whose card certificate is personal data outside the city).
    """

    transaction_id: str
    chain_id: str
    kiosk_id: str
    business_day: dt.date
    city: str
    kind: str
    copies: int
    submission_digest: bytes
    status: BillingStatus
    opened_at: dt.datetime
    fee_per_copy: int | None = None
    issuer_id: str | None = None
    copies_printed: int = 0
    copies_voided: int = 0
    amount_yen: int = 0
    reason: str = ""
    closed_at: dt.datetime | None = None
    reported_at: dt.datetime | None = None
    """When the center answered the completion report (accepted, or refused for good: see report_error)."""
    report_error: str | None = None
    """The code of the center's final refusal of the report: never sent again; an operator must look."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Closing:
    """How a pending line closes, as the kiosk reported it and the HQ priced it."""

    status: BillingStatus
    copies_printed: int
    copies_voided: int
    amount_yen: int
    reason: str
    closed_at: dt.datetime


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


def completion_of(line: BillingLine) -> TaggedCompletion:
    """The completion report of a closed LINE, as the center, the forwarder and the issuer take it: outcome,
    counts and reason as the kiosk reported them, chain, kiosk, city and kind from the line itself."""
    if line.status is BillingStatus.PENDING:
        raise ValueError("a pending line has no completion to report")
    return TaggedCompletion(
        transaction_id=line.transaction_id,
        outcome=_OUTCOME_OF_STATUS[line.status],
        copies_printed=line.copies_printed,
        copies_voided=line.copies_voided,
        reason=line.reason,
        chain_id=line.chain_id,
        kiosk_id=line.kiosk_id,
        city=line.city,
        kind=line.kind,
    )


class StoreHq:
    """The gateway of one chain (コンビニ本部): relays its kiosks' calls to the center and bills them."""

    def __init__(
        self,
        *,
        chain_id: str,
        kiosk_ids: frozenset[str],
        ledger: BillingLedger,
        center: CenterLink,
        challenges: ChallengeLine,
        outbox: CompletionOutbox,
        clock: Clock,
    ) -> None:
        if not kiosk_ids:
            raise ConfigError(f"chain {chain_id} has no kiosks")
        self._chain_id = chain_id
        self._kiosks = kiosk_ids
        self._ledger = ledger
        self._center = center
        self._challenges = challenges
        self._outbox = outbox
        self._clock = clock

    @classmethod
    def from_config(
        cls,
        dep: Deployment,
        *,
        instance: str,
        ledger: BillingLedger,
        center: CenterLink,
        challenges: ChallengeLine,
        outbox: CompletionOutbox,
        clock: Clock,
    ) -> StoreHq:
        """The gateway whose HQ instance is INSTANCE in DEP, serving that chain's kiosks."""
        for chain in dep.chains:
            if chain.hq.instance == instance:
                return cls(
                    chain_id=chain.id,
                    kiosk_ids=frozenset(k.instance for k in chain.kiosks),
                    ledger=ledger,
                    center=center,
                    challenges=challenges,
                    outbox=outbox,
                    clock=clock,
                )
        raise ConfigError(f"{instance} is not the HQ of any chain in this deployment")

    @property
    def chain_id(self) -> str:
        return self._chain_id

    async def relay_challenge(self, *, caller: str) -> ChallengeAnswer:
        """A challenge for the calling kiosk: only for our own kiosks, and only ever for the caller itself.

        1. The caller (from its client certificate) is a kiosk of this chain (stops another chain's kiosk
           obtaining a challenge on our line).
        2. Ask for the caller and nobody else; the ask may leave with other kiosks' asks in one call to the
           center (`ChallengeLine`), but the challenge that comes back is the one bound to the caller.
        """
        self._check_kiosk(caller)  # 1
        return await self._challenges.challenge(caller)  # 2

    async def relay_issuance(
        self, submission: IssuanceSubmission, *, caller: str, idempotency_key: str | None
    ) -> RelayedIssuanceAnswer:
        """Relay one kiosk's signed submission to the center and pass the sealed answer back untouched.

        1. The caller (from its client certificate) is a kiosk of this chain (stops a kiosk of another chain,
           or any other certificate of this segment, from using our line).
        2. The request names the caller as its kiosk (stops one kiosk passing off a request made for, or
           captured from, another kiosk: kiosk_id spoofing).
        3. The idempotency key is the transaction id (stops a retry of one transaction being taken for another).
        4. Open the billing line, or find the line of an earlier try: the same kiosk with the same submission
           digest is a retry and is forwarded again (the center answers its first answer, never a second
           issuance); anything else under that transaction id is refused (stops a reused id riding on another
           transaction's answer or bill).
        5. Forward the submission tagged with our chain, under the same idempotency key.
        6. The answer must name this transaction (stops a mixed-up answer reaching the wrong kiosk, invariant 1);
           record its fee per copy on the line and return the answer as received.
        """
        request = submission.request
        self._check_kiosk(caller)  # 1
        if request.kiosk_id != caller:  # 2
            _log.warning(
                "refused issuance tx=%s: kiosk %s sent a request for another kiosk", request.transaction_id, caller
            )
            raise KioskNotServedError("the request names another kiosk than the caller")
        _check_key(idempotency_key, request.transaction_id)  # 3
        now = self._clock.now()
        digest = request_digest(submission.model_dump(mode="json"))
        wanted = BillingLine(
            transaction_id=request.transaction_id,
            chain_id=self._chain_id,
            kiosk_id=caller,
            business_day=now.astimezone(BILLING_TIMEZONE).date(),
            city=request.city,
            kind=request.kind,
            copies=request.copies,
            submission_digest=digest,
            status=BillingStatus.PENDING,
            opened_at=now,
        )
        line = await asyncio.to_thread(self._ledger.open_line, wanted)  # 4
        if line.kiosk_id != caller or line.submission_digest != digest:
            _log.warning("refused issuance tx=%s from %s: transaction id reused", request.transaction_id, caller)
            raise TransactionConflictError()
        tagged = TaggedSubmission(**submission.model_dump(), chain_id=self._chain_id)
        answer = await self._center.submit(tagged)  # 5
        if answer.transaction_id != request.transaction_id:  # 6
            _log.error("center answered tx=%s for tx=%s; refused", answer.transaction_id, request.transaction_id)
            raise UpstreamError("the center answered for another transaction")
        await asyncio.to_thread(
            self._ledger.record_fee, request.transaction_id, fee_per_copy=answer.fee_yen, issuer_id=answer.issuer_id
        )
        _log.info(
            "issuance relayed tx=%s kiosk=%s city=%s kind=%s copies=%d fee=%d",
            request.transaction_id,
            caller,
            request.city,
            request.kind,
            request.copies,
            answer.fee_yen,
        )
        return answer

    async def relay_completion(
        self, report: CompletionReport, *, caller: str, idempotency_key: str | None
    ) -> CompletionAnswer:
        """Close the billing line of a kiosk's transaction and answer at once; the center hears of it in a batch.

        1. The caller is a kiosk of this chain (as for issuances).
        2. The idempotency key is the transaction id.
        3. The line exists and was opened by this same kiosk (stops a kiosk closing, billing or voiding a
           transaction it never made, and a completion for a transaction this HQ never relayed).
        4. The report agrees with the line: copies within what was asked, counts that fit the outcome, and
           nothing printed without a relayed answer (stops an inconsistent bill).
        5. Close the line; the amount is the answer's fee times the printed copies, computed here, never taken
           from the kiosk. The same report again changes nothing; another report for a closed line is refused.
        6. Wake the reporter: the closed line is durable, so the kiosk is answered now (``closed``: whether this
           call closed the line) and the reporter sends it on with city and kind from our own line (not from
           the kiosk), retrying until the center has it (a fact is never lost, and no kiosk waits for a city).
        """
        self._check_kiosk(caller)  # 1
        _check_key(idempotency_key, report.transaction_id)  # 2
        closed, changed = await asyncio.to_thread(self._close_line, report, caller)  # 3-5, one thread hop
        if changed:
            self._outbox.enqueue(closed)  # 6
        _log.info(
            "completion closed tx=%s kiosk=%s status=%s printed=%d voided=%d amount=%d reason=%s",
            report.transaction_id,
            caller,
            closed.status.value,
            report.copies_printed,
            report.copies_voided,
            closed.amount_yen,
            report.reason or "-",
        )
        return CompletionAnswer(transaction_id=report.transaction_id, closed=changed)

    def _close_line(self, report: CompletionReport, caller: str) -> tuple[BillingLine, bool]:
        """Steps 3 to 5 of `relay_completion`, in one worker thread: read the line, check the report, close."""
        line = self._ledger.fetch_line(report.transaction_id)  # 3
        if line is None or line.kiosk_id != caller:
            _log.warning(
                "refused completion tx=%s from %s: not a transaction of this kiosk", report.transaction_id, caller
            )
            raise UnknownTransactionError()
        _check_counts(report, line)  # 4
        fee = line.fee_per_copy or 0
        closing = Closing(
            status=_STATUS_OF_OUTCOME[report.outcome],
            copies_printed=report.copies_printed,
            copies_voided=report.copies_voided,
            amount_yen=fee * report.copies_printed,
            reason=report.reason,
            closed_at=self._clock.now(),
        )
        closed, changed = self._ledger.close_line(report.transaction_id, closing)  # 5
        if not changed and (
            closed.status,
            closed.copies_printed,
            closed.copies_voided,
            closed.reason,
        ) != (closing.status, closing.copies_printed, closing.copies_voided, closing.reason):
            raise TransactionConflictError("the transaction was already closed with another outcome")
        return closed, changed

    async def relay_history(
        self, submission: HistorySubmission, *, caller: str, idempotency_key: str | None
    ) -> HistoryAnswer:
        """Relay a resident's signed history request and pass the sealed envelopes back untouched.

        1. The caller is a kiosk of this chain; 2. the request names the caller as its kiosk; 3. the key is the
        transaction id (each as for an issuance, and for the same reasons).
        4. Forward it tagged with our chain. No billing line: nothing is sold, and the HQ keeps nothing of it
           (the card certificate is personal data outside the city).
        5. The answer must name this transaction (a mixed-up answer never reaches the wrong kiosk).
        """
        request = submission.request
        self._check_kiosk(caller)  # 1
        if request.kiosk_id != caller:  # 2
            _log.warning(
                "refused history tx=%s: kiosk %s sent a request for another kiosk", request.transaction_id, caller
            )
            raise KioskNotServedError("the request names another kiosk than the caller")
        _check_key(idempotency_key, request.transaction_id)  # 3
        tagged = TaggedHistorySubmission(**submission.model_dump(), chain_id=self._chain_id)
        answer = await self._center.history(tagged)  # 4
        if answer.transaction_id != request.transaction_id:  # 5
            _log.error(
                "center answered history tx=%s for tx=%s; refused", answer.transaction_id, request.transaction_id
            )
            raise UpstreamError("the center answered for another transaction")
        _log.info("history relayed tx=%s kiosk=%s city=%s", request.transaction_id, caller, request.city)
        return answer

    def _check_kiosk(self, caller: str) -> None:
        if caller not in self._kiosks:
            _log.warning("refused a call from %s: not a kiosk of chain %s", caller, self._chain_id)
            raise KioskNotServedError(f"{caller} is not a kiosk of chain {self._chain_id}")


def _check_key(idempotency_key: str | None, transaction_id: str) -> None:
    if idempotency_key != transaction_id:
        raise ValidationError(
            "the Idempotency-Key header must be the transaction id",
            ja="Idempotency-Key ヘッダーは取引番号と同じでなければなりません。",
        )


def _check_counts(report: CompletionReport, line: BillingLine) -> None:
    printed, voided = report.copies_printed, report.copies_voided
    if printed + voided > line.copies:
        raise ValidationError("more copies reported than were requested")
    match report.outcome:
        case Outcome.PRINTED:
            consistent = printed >= 1 and printed + voided == line.copies and line.fee_per_copy is not None
        case Outcome.JAM_VOIDED:
            consistent = printed == 0 and voided == line.copies and line.fee_per_copy is not None
        case Outcome.ABANDONED:
            consistent = printed == 0 and voided == 0
    if not consistent:
        raise ValidationError(f"the copy counts do not fit the outcome {report.outcome.value}")
