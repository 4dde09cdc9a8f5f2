"""The issuance center's logic: challenges, the checked and routed issuance, completions, settlement."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TypeVar

from yakuba.center.catalogue import Catalogue
from yakuba.center.errors import (
    CitySuspendedError,
    KioskNotServedError,
    TransactionConflictError,
    TransactionMismatchError,
)
from yakuba.center.ports import (
    ChainView,
    Challenges,
    CitySuspension,
    Forwarders,
    LineClosing,
    LineStatus,
    SettlementLine,
    SettlementRow,
    SettlementStore,
    TrustSource,
    month_bounds,
)
from yakuba.clock import JST, Clock
from yakuba.config import Deployment
from yakuba.errors import NotFoundError, UpstreamError, ValidationError, YakubaError
from yakuba.wire.batches import batch_tally, send_batch_on
from yakuba.wire.card_auth import verify_card_authentication
from yakuba.wire.digest import request_digest
from yakuba.wire.messages import (
    ChallengeAnswer,
    ChallengeAsk,
    ChallengeBatchAnswer,
    ChallengeBatchAsk,
    CompletionBatch,
    CompletionBatchAnswer,
    CompletionResult,
    HistoryAnswer,
    Outcome,
    RelayedIssuanceAnswer,
    RoutedSubmission,
    TaggedCompletion,
    TaggedHistorySubmission,
    TaggedSubmission,
)

__all__ = ["ANSWER_MISMATCH", "CenterService"]

_log = logging.getLogger("yakuba.center")
_T = TypeVar("_T")

ANSWER_MISMATCH = "answer_mismatch"
"""Suspension reason: a city's answer named another transaction or fee (the 2023-24 incidents' signature)."""


class CenterService:
    """The issuance center (証明書交付センター): checks each request, routes it to its city, settles it.

    Blocking database work runs in worker threads, so one slow SQLite lock never stalls other requests.
    """

    def __init__(
        self,
        *,
        chains: Iterable[ChainView],
        catalogue: Catalogue,
        challenges: Challenges,
        trust: TrustSource,
        forwarders: Forwarders,
        store: SettlementStore,
        clock: Clock,
    ) -> None:
        self._chains: Mapping[str, ChainView] = {chain.hq_instance: chain for chain in chains}
        self._catalogue = catalogue
        self._challenges = challenges
        self._trust = trust
        self._forwarders = forwarders
        self._store = store
        self._clock = clock

    @classmethod
    def from_deployment(
        cls,
        dep: Deployment,
        *,
        catalogue: Catalogue | None = None,
        challenges: Challenges,
        trust: TrustSource,
        forwarders: Forwarders,
        store: SettlementStore,
        clock: Clock,
    ) -> CenterService:
        """The center for DEP's chains, with the sample catalogue of DEP's cities unless one is given."""
        chains = [
            ChainView(chain_id=c.id, hq_instance=c.hq.instance, kiosks=frozenset(k.instance for k in c.kiosks))
            for c in dep.chains
        ]
        return cls(
            chains=chains,
            catalogue=catalogue or Catalogue.for_cities(city.code for city in dep.cities),
            challenges=challenges,
            trust=trust,
            forwarders=forwarders,
            store=store,
            clock=clock,
        )

    @property
    def catalogue(self) -> Catalogue:
        return self._catalogue

    # -- challenges ------------------------------------------------------------------------------------

    async def issue_challenge(self, *, caller: str, ask: ChallengeAsk) -> ChallengeAnswer:
        """A one-time challenge for a kiosk the calling HQ serves: `issue_challenges` for a batch of one."""
        answer = await self.issue_challenges(caller=caller, ask=ChallengeBatchAsk(kiosk_ids=[ask.kiosk_id]))
        return answer.challenges[0]

    async def issue_challenges(self, *, caller: str, ask: ChallengeBatchAsk) -> ChallengeBatchAnswer:
        """One-time challenges for the kiosks of ASK, asked together by their HQ (its kiosks' asks coalesced).

        1. Every kiosk id of the ask is one the calling HQ serves; a single one that is not refuses the whole
           ask and nothing is issued (KioskNotServedError: stops a chain obtaining challenges for another
           chain's kiosks, to have their residents' cards sign over its own line).
        2. One challenge per entry, all inserted in ONE database transaction, each bound to its entry's kiosk,
           single use and valid for CHALLENGE_TTL, only its hash stored: exactly what a challenge asked for
           alone is (a batch weakens no check of `submit` or `history`, which consume it).
        3. The answer has one challenge per entry, in the ask's order (the HQ hands each to its own kiosk).
        """
        kiosk_ids = ask.kiosk_ids
        try:
            for kiosk_id in kiosk_ids:  # 1
                self._check_kiosk(caller, kiosk_id=kiosk_id)
        except KioskNotServedError:
            _log.warning("challenges refused: %s asked for a kiosk it does not serve", caller)
            raise
        issued = await self._blocking(self._challenges.issue_many, kiosk_ids)  # 2
        return ChallengeBatchAnswer(  # 3
            challenges=[ChallengeAnswer(challenge=c.value, expires_at=c.expires_at.isoformat()) for c in issued]
        )

    # -- issuance --------------------------------------------------------------------------------------

    async def submit(self, *, caller: str, submission: TaggedSubmission) -> RelayedIssuanceAnswer:
        """Check a signed request, route it to its city, record its settlement line, return the city's answer.

        a. The calling HQ is the chain it names and serves the kiosk (a store network submitting for a
           kiosk not its own).
           A transaction id seen before goes to `_resubmit` (a retry after a lost answer) and skips b.
        b. Consume the kiosk's challenge: single use, unexpired, issued to this kiosk (replay of a signed
           request; a challenge captured at one kiosk used at another).
        c. The card certificate chains to the JPKI, is in date, is not on the current CRL, and its key signed
           challenge + request digest + kiosk (a forged, lapsed, lost or revoked card; a relay altering the
           request). The CRL is the cached one from the JPKI, refused if stale.
        d. The (city, kind) is in its hours in JST (issuing when the city's systems are not staffed to resolve
           problems) and the city is not suspended (an unresolved integrity error; read with g, in one
           worker-thread hop, as b is read with the earlier-try lookup).
        e. The catalogue: city participating, kind offered, basis, options and copies allowed (an option a
           city switched off; a request the issuer should never see).
        f. Route to the city the request names (residence: where the resident lives; honseki: the city
           holding the register, whose issuer checks the 利用登録), adding the fee per copy.
        g. Record the pending settlement line (ids, day, city, chain, kind, copies, fee; no card serial) before
           forwarding, so an issuance is never without its line; then forward, and pass the answer back
           untouched after checking it names this transaction and fee (another person's document).
        Any error after g marks the line failed (never charged) and reaches the caller; nothing is retried.
        """
        try:
            return await self._submit(caller=caller, submission=submission)
        except YakubaError as exc:
            # The code only: messages may one day carry something a log must not (they never do today).
            _log.info("issuance %s refused: %s", submission.request.transaction_id, exc.code)
            raise

    async def _submit(self, *, caller: str, submission: TaggedSubmission) -> RelayedIssuanceAnswer:
        request = submission.request
        self._check_kiosk(caller, kiosk_id=request.kiosk_id, chain_id=submission.chain_id)  # a
        digest = request_digest(request.signed_form())
        challenge_hash = hashlib.sha256(submission.challenge).digest()
        existing = await self._blocking(self._admit, submission)  # b, in one worker-thread hop
        if existing is not None:
            return await self._resubmit(existing, submission, digest=digest, challenge_hash=challenge_hash)
        await self._verify_card(submission, digest=digest)  # c
        now = self._clock.now()
        entry = self._catalogue.entry(request.city, request.kind)  # e (its hours are needed for d)
        entry.hours.check_open(now)  # d
        entry.check_request(request)  # e
        routed = _routed(submission, fee_yen=entry.fee_yen)  # f
        line = SettlementLine(  # g
            transaction_id=request.transaction_id,
            request_digest=digest,
            challenge_hash=challenge_hash,
            day=now.astimezone(JST).date(),
            city=request.city,
            chain_id=submission.chain_id,
            kiosk_id=request.kiosk_id,
            kind=request.kind,
            basis=request.basis.value,
            copies=request.copies,
            fee_yen=entry.fee_yen,
            created_at=now,
        )
        await self._blocking(self._open_line, line)  # d (suspension) and g, in one worker-thread hop
        _log.info(
            "issuance %s routed: city=%s kind=%s chain=%s copies=%d fee=%d",
            line.transaction_id,
            line.city,
            line.kind,
            line.chain_id,
            line.copies,
            line.fee_yen,
        )
        return await self._forward(line, routed)

    def _admit(self, submission: TaggedSubmission) -> SettlementLine | None:
        """The line of an earlier try of this transaction id, if any; else consume the challenge (step b)."""
        request = submission.request
        existing = self._store.find_line(request.transaction_id)
        if existing is None:
            self._challenges.consume(submission.challenge, request.kiosk_id)
        return existing

    def _open_line(self, line: SettlementLine) -> None:
        """Open LINE unless its city is suspended (steps d and g)."""
        if self._store.find_suspension(line.city) is not None:
            raise CitySuspendedError()
        self._store.open_line(line)

    async def _resubmit(
        self, line: SettlementLine, submission: TaggedSubmission, *, digest: bytes, challenge_hash: bytes
    ) -> RelayedIssuanceAnswer:
        """A transaction id seen before: the same request, the same challenge, still open -> forward again.

        The issuer answers a repeated transaction id with its first answer, so forwarding again never issues
        twice; the challenge is not consumed again (it was, the first time). The card is checked again
        (it may have been revoked since).
        """
        if line.request_digest != digest or line.chain_id != submission.chain_id:
            raise TransactionConflictError("this transaction id was already used for another request")
        if line.challenge_hash != challenge_hash:
            raise TransactionConflictError("a repeated transaction must present the challenge it was signed with")
        if line.status is not LineStatus.PENDING:
            raise TransactionConflictError(f"this transaction has ended ({line.status.value}); start a new one")
        await self._verify_card(submission, digest=digest)
        await self._check_not_suspended(line.city)
        _log.info("issuance %s repeated: forwarding again to city=%s", line.transaction_id, line.city)
        return await self._forward(line, _routed(submission, fee_yen=line.fee_yen))

    async def _verify_card(self, submission: TaggedSubmission, *, digest: bytes) -> None:
        trust = await self._trust.trust()
        verify_card_authentication(
            trust=trust,
            certificate_der=submission.card_certificate,
            signature=submission.signature,
            challenge=submission.challenge,
            request_digest=digest,
            kiosk_id=submission.request.kiosk_id,
            now=self._clock.now(),
        )

    async def _forward(self, line: SettlementLine, routed: RoutedSubmission) -> RelayedIssuanceAnswer:
        try:
            answer = await self._forwarders.submit(line.city, routed)
        except YakubaError as exc:
            await self._fail(line, reason=exc.code)
            raise
        except Exception as exc:
            await self._fail(line, reason=UpstreamError.code)
            raise UpstreamError(f"routing to city {line.city} failed ({type(exc).__name__})") from exc
        if answer.transaction_id != line.transaction_id or answer.fee_yen != line.fee_yen:
            await self._fail(line, reason=ANSWER_MISMATCH)
            suspension = CitySuspension(
                city=line.city, reason=ANSWER_MISMATCH, transaction_id=line.transaction_id, suspended_at=self._now()
            )
            await self._blocking(self._store.suspend_city, suspension)
            _log.error(
                "ALERT city %s answered transaction %s with another transaction or fee; issuance for the city "
                "is suspended until an operator resumes it",
                line.city,
                line.transaction_id,
            )
            raise UpstreamError(
                "the city's answer does not match the request; the transaction was cancelled",
                ja="市区町村からの応答が要求と一致しません。取引は中止され、料金はかかりません。",
            )
        if not await self._blocking(self._store.mark_answered, line.transaction_id, at=self._now()):
            # Two attempts at one transaction (a kiosk's retry racing its first try) were forwarded together
            # and the other one failed, which aborted the transaction (line failed, nothing to be charged).
            # This answer must not reach the kiosk: it would print a certificate the center settles as failed
            # (found by `yakuba torture`: printed and paid at the store, 0 yen and "failed" at the center).
            _log.warning("issuance %s answered after it was aborted: answer withheld", line.transaction_id)
            raise TransactionConflictError("this transaction has ended (failed); start a new one")
        _log.info("issuance %s answered: city=%s pages=%d", line.transaction_id, line.city, answer.pages)
        return answer

    async def _fail(self, line: SettlementLine, *, reason: str) -> None:
        await self._blocking(self._store.fail_line, line.transaction_id, reason=reason, at=self._now())
        _log.warning("issuance %s aborted: city=%s reason=%s", line.transaction_id, line.city, reason)

    async def _check_not_suspended(self, city: str) -> None:
        suspension = await self._blocking(self._store.find_suspension, city)
        if suspension is not None:
            raise CitySuspendedError()

    # -- residents' own history --------------------------------------------------------------------------

    async def history(self, *, caller: str, submission: TaggedHistorySubmission) -> HistoryAnswer:
        """Check a signed history request and route it to the city's forwarder; the sealed answer comes back.

        a. The calling HQ is the chain it names and serves the kiosk (as for an issuance).
        b. Consume the kiosk's challenge: single use, unexpired, this kiosk (replay of a captured request).
        c. The card chains to the JPKI, is in date, is not on the current CRL, and signed challenge +
           request digest + kiosk (a lost or revoked card reading its holder's history; a relay altering
           the request).
        d. Route to the city the request names (CityNotParticipatingError for another); no settlement line
           and no fee: nothing is issued or sold. The city's issuers verify the card again and seal.
        e. The answer names this transaction (a crossed answer never reaches the wrong kiosk).
        """
        request = submission.request
        try:
            self._check_kiosk(caller, kiosk_id=request.kiosk_id, chain_id=submission.chain_id)  # a
            await self._blocking(self._challenges.consume, submission.challenge, request.kiosk_id)  # b
            trust = await self._trust.trust()
            verify_card_authentication(  # c
                trust=trust,
                certificate_der=submission.card_certificate,
                signature=submission.signature,
                challenge=submission.challenge,
                request_digest=request_digest(request.signed_form()),
                kiosk_id=request.kiosk_id,
                now=self._clock.now(),
            )
            answer = await self._forwarders.history(request.city, submission)  # d
        except YakubaError as exc:
            _log.info("history %s refused: %s", request.transaction_id, exc.code)
            raise
        if answer.transaction_id != request.transaction_id:  # e
            _log.error("integrity: city %s answered history %s for another", request.city, request.transaction_id)
            raise UpstreamError("the city's answer does not match the request")
        _log.info(
            "history %s answered: city=%s chain=%s envelopes=%d",
            request.transaction_id,
            request.city,
            submission.chain_id,
            len(answer.envelopes),
        )
        return answer

    # -- completion ------------------------------------------------------------------------------------

    async def complete_batch(self, *, caller: str, batch: CompletionBatch) -> CompletionBatchAnswer:
        """Pass each kiosk's outcome in BATCH to its city and close the settlement lines, with one exchange per
        city and one close transaction. Each report is judged on its own; one refused report never refuses the
        others.

        1. The calling HQ is the chain named and serves the kiosk (a chain closing another's transactions).
        2. The transaction exists and matches the report's chain, kiosk, city and kind (a report closing the
           wrong line).
        3. Copies printed + voided never exceed the copies asked for, and the outcome agrees with the counts
           (charging more than was asked for).
        4. A closed line answers closed=false, changes nothing and is not forwarded (a retried report never
           charges twice).
        5. A failed line is never charged (a printed report for it is refused); the report still goes to the
           city to close the issuer's log.
           Steps 1-3 and 5's refusal are `_check_completion`; a refused report gets its error code with
           retry=false (resending it will never help).
        6. The rest (pending lines, and failed lines, to close the issuer's log) go to their city as ONE batch
           per city under the same batch id, the cities at once.
        7. A city that cannot be reached, fails the whole batch, or answers with results that do not `.matches`
           the batch it was sent (an integrity error: a relay mixing up batches must never close the wrong
           lines) gets retry=true with the error code for each of its reports; nothing of those changes here
           (the report states a fact: the HQ keeps it and sends it again).
        8. A result from the city is passed back as it came when it is an error. When it is accepted, a pending
           line is closed (printed copies x fee, or 0 yen) and a failed one never charged; closed says whether
           this report closed the center's line. Only lines the city acknowledged are closed, all of them in
           one database transaction.
        The answer has exactly one result per report, in the batch's order.
        """
        completions = batch.completions
        lines = await self._blocking(self._store.find_lines, [c.transaction_id for c in completions])
        results: dict[str, CompletionResult] = {}
        checked: dict[str, tuple[SettlementLine, TaggedCompletion]] = {}
        per_city: dict[str, list[TaggedCompletion]] = {}
        for completion in completions:  # 1-5
            tx = completion.transaction_id
            try:
                line = self._check_completion(caller, completion, lines.get(tx))
            except YakubaError as exc:
                _log.info("completion %s refused: %s", tx, exc.code)
                results[tx] = CompletionResult(transaction_id=tx, error=exc.code)
                continue
            if line.status is LineStatus.CLOSED:
                results[tx] = CompletionResult(transaction_id=tx, closed=False)
                continue
            checked[tx] = (line, completion)
            per_city.setdefault(line.city, []).append(completion)
        replies = await asyncio.gather(  # 6, 7
            *(
                self._complete_in_city(city, CompletionBatch(batch_id=batch.batch_id, completions=items))
                for city, items in per_city.items()
            )
        )
        to_close: list[tuple[SettlementLine, TaggedCompletion]] = []
        for reply in replies:  # 8
            for result in reply:
                line, completion = checked[result.transaction_id]
                if result.error is not None:
                    results[result.transaction_id] = result
                elif line.status is LineStatus.FAILED:
                    results[result.transaction_id] = CompletionResult(transaction_id=line.transaction_id, closed=False)
                else:
                    to_close.append((line, completion))
        closed = await self._close_lines(to_close)
        for line, _completion in to_close:
            tx = line.transaction_id
            results[tx] = CompletionResult(transaction_id=tx, closed=tx in closed)
        ordered = [results[c.transaction_id] for c in completions]
        _log.info(
            "completion batch %s: reports=%d closed=%d refused=%d to_retry=%d",
            batch.batch_id,
            len(ordered),
            len(closed),
            *batch_tally(ordered),
        )
        return CompletionBatchAnswer(batch_id=batch.batch_id, results=ordered)

    def _check_completion(
        self, caller: str, completion: TaggedCompletion, line: SettlementLine | None
    ) -> SettlementLine:
        """Steps 1-3 and 5 of `complete_batch` for one report and the line it names (None: no such line); the
        line, or the refusal raised."""
        self._check_kiosk(caller, kiosk_id=completion.kiosk_id, chain_id=completion.chain_id)  # 1
        if line is None:  # 2
            raise NotFoundError("no such transaction at the center", ja="該当する取引がありません。")
        if (line.chain_id, line.kiosk_id, line.city, line.kind) != (
            completion.chain_id,
            completion.kiosk_id,
            completion.city,
            completion.kind,
        ):
            raise TransactionMismatchError()
        _check_counts(completion, requested=line.copies)  # 3
        if line.status is LineStatus.FAILED and completion.outcome is Outcome.PRINTED:  # 5
            raise TransactionMismatchError("a cancelled transaction cannot have printed")
        return line

    async def _complete_in_city(self, city: str, batch: CompletionBatch) -> list[CompletionResult]:
        """Steps 6 and 7 of `complete_batch` for one city: its results, or retry=true for every report."""
        return await send_batch_on(
            lambda sub: self._forwarders.complete_batch(city, sub), batch, to=f"city {city}", log=_log
        )

    async def _close_lines(self, pairs: Sequence[tuple[SettlementLine, TaggedCompletion]]) -> set[str]:
        """Close each pending line with its report, in one transaction: printed copies x fee, or 0 yen; the ids
        this call closed (a line closed meanwhile by another attempt is left as it is)."""
        if not pairs:
            return set()
        closings = [
            LineClosing(
                transaction_id=line.transaction_id,
                outcome=completion.outcome.value,
                copies_printed=completion.copies_printed,
                copies_voided=completion.copies_voided,
                amount_yen=completion.copies_printed * line.fee_yen if completion.outcome is Outcome.PRINTED else 0,
            )
            for line, completion in pairs
        ]
        closed = await self._blocking(lambda: self._store.close_lines(closings, at=self._now()))
        for closing in closings:
            if closing.transaction_id in closed:
                _log.info(
                    "issuance %s closed: outcome=%s printed=%d voided=%d amount=%d",
                    closing.transaction_id,
                    closing.outcome,
                    closing.copies_printed,
                    closing.copies_voided,
                    closing.amount_yen,
                )
        return closed

    # -- settlement and operations ---------------------------------------------------------------------

    async def settlement(self, month: str) -> list[SettlementRow]:
        """Totals per day, city, chain and kind for MONTH ('YYYY-MM', JST days)."""
        first, last = month_bounds(month)
        return await self._blocking(lambda: self._store.settlement_rows(first_day=first, last_day=last))

    async def resume_city(self, city: str) -> bool:
        """Lift a city's suspension (after the integrity error was investigated); whether one was lifted."""
        lifted = await self._blocking(self._store.resume_city, city)
        if lifted:
            _log.warning("issuance for city %s resumed by an operator", city)
        return lifted

    # -- internals -------------------------------------------------------------------------------------

    def _check_kiosk(self, caller: str, *, kiosk_id: str, chain_id: str | None = None) -> None:
        chain = self._chains.get(caller)
        if chain is None or (chain_id is not None and chain.chain_id != chain_id):
            raise KioskNotServedError("the calling HQ is not the chain named in the request")
        if kiosk_id not in chain.kiosks:
            raise KioskNotServedError()

    def _now(self) -> dt.datetime:
        return self._clock.now()

    @staticmethod
    async def _blocking(work: Callable[..., _T], *args: object, **kwargs: object) -> _T:
        return await asyncio.to_thread(work, *args, **kwargs)


def _routed(submission: TaggedSubmission, *, fee_yen: int) -> RoutedSubmission:
    return RoutedSubmission(
        request=submission.request,
        challenge=submission.challenge,
        card_certificate=submission.card_certificate,
        signature=submission.signature,
        chain_id=submission.chain_id,
        fee_yen=fee_yen,
    )


def _check_counts(completion: TaggedCompletion, *, requested: int) -> None:
    printed, voided = completion.copies_printed, completion.copies_voided
    if printed + voided > requested:
        raise TransactionMismatchError(
            f"{printed} printed + {voided} voided exceeds the {requested} copies asked for",
            ja="印刷・無効の部数が申請部数を超えています。",
        )
    consistent = {
        Outcome.PRINTED: printed >= 1,
        Outcome.JAM_VOIDED: printed == 0 and voided >= 1,
        Outcome.ABANDONED: printed == 0,
    }[completion.outcome]
    if not consistent:
        raise ValidationError(
            f"the outcome {completion.outcome.value} does not agree with {printed} printed, {voided} voided",
            ja="結果と部数が一致しません。",
        )
