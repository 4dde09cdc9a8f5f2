"""Challenges, the checked and routed issuance, and residents' own history: signed requests routed to a city."""

from __future__ import annotations

import hashlib
import logging

from yakuba.center.errors import CitySuspendedError, KioskNotServedError, TransactionConflictError
from yakuba.center.ports import CitySuspension, LineStatus, SettlementLine
from yakuba.center.service._base import CenterBase
from yakuba.clock import JST
from yakuba.errors import UpstreamError, YakubaError
from yakuba.wire.card_auth import verify_card_authentication
from yakuba.wire.digest import request_digest
from yakuba.wire.messages import (
    ChallengeAnswer,
    ChallengeAsk,
    ChallengeBatchAnswer,
    ChallengeBatchAsk,
    HistoryAnswer,
    RelayedIssuanceAnswer,
    RoutedSubmission,
    TaggedHistorySubmission,
    TaggedSubmission,
)

__all__ = ["ANSWER_MISMATCH", "IssuanceSteps"]

_log = logging.getLogger("yakuba.center")

ANSWER_MISMATCH = "answer_mismatch"
"""Suspension reason: a city's answer named another transaction or fee (the 2023-24 incidents' signature)."""


class IssuanceSteps(CenterBase):
    """Challenges, issuance requests and history requests: checked, then routed to their city."""

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


def _routed(submission: TaggedSubmission, *, fee_yen: int) -> RoutedSubmission:
    return RoutedSubmission(
        request=submission.request,
        challenge=submission.challenge,
        card_certificate=submission.card_certificate,
        signature=submission.signature,
        chain_id=submission.chain_id,
        fee_yen=fee_yen,
    )
