"""The store HQ gateway: admit only its own kiosks, tag their requests with the chain, open and close billing lines."""

from __future__ import annotations

import asyncio
import logging

from yakuba.clock import Clock
from yakuba.config import Deployment
from yakuba.errors import ConfigError, UpstreamError, ValidationError
from yakuba.storehq.errors import KioskNotServedError, TransactionConflictError, UnknownTransactionError
from yakuba.storehq.service._billing import (
    _STATUS_OF_OUTCOME,
    BILLING_TIMEZONE,
    BillingLine,
    BillingStatus,
    Closing,
)
from yakuba.storehq.service._ports import BillingLedger, CenterLink, ChallengeLine, CompletionOutbox
from yakuba.wire.digest import request_digest
from yakuba.wire.messages import (
    ChallengeAnswer,
    CompletionAnswer,
    CompletionReport,
    HistoryAnswer,
    HistorySubmission,
    IssuanceSubmission,
    Outcome,
    RelayedIssuanceAnswer,
    TaggedHistorySubmission,
    TaggedSubmission,
)

__all__ = ["StoreHq"]

_log = logging.getLogger("yakuba.storehq")


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
