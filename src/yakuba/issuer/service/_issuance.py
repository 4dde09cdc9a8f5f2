"""Issuance: route, card, idempotency, eligibility, reservation, render, seal and log, step by step."""

from __future__ import annotations

import datetime as dt
import hmac
import logging

from yakuba.clock import JST
from yakuba.documents import DocumentHeader, DocumentKind, DocumentRequest
from yakuba.documents.errors import FieldTooLongError
from yakuba.errors import YakubaError
from yakuba.forwarder.errors import WrongCityError
from yakuba.forwarder.routing import SYSTEM_OF_KIND
from yakuba.issuer.eligibility import Reason, Refusal, error_for
from yakuba.issuer.errors import (
    KindNotServedError,
    NotPrintableError,
    TransactionClosedError,
    TransactionConflictError,
    TransactionInProgressError,
)
from yakuba.issuer.log_entry import EntryStatus, LogEntry, NewEntry
from yakuba.issuer.planning import Prepared
from yakuba.issuer.service._base import RENDER_FAILED, SEALING_PURPOSE, ServiceBase
from yakuba.issuer.service_controls import check_controls
from yakuba.wire.messages import IssuanceAnswer, IssuanceRequest, RoutedSubmission
from yakuba.wire.sealing import SealingBinding, card_fingerprint, seal

__all__ = ["IssuanceSteps"]

_log = logging.getLogger("yakuba.issuer")


class IssuanceSteps(ServiceBase):
    """Issue a certificate: RoutedSubmission in, sealed IssuanceAnswer out."""

    # --- issuance --------------------------------------------------------------------------------------
    def issue(self, submission: RoutedSubmission) -> IssuanceAnswer:
        """Issue the certificate SUBMISSION asks for, sealed to its kiosk transaction key.

        0. Refuse a request for another city or a kind this system does not hold (misrouting), and a kind the
           city suspended or any kind during its maintenance window (the city's console decides; nothing is
           logged or charged: the center fails its settlement line).
        1. Verify the card authentication again, here (end to end: a relay that altered the request, the
           challenge or the kiosk id, or a revoked or self-made card, fails; CRL reloaded when it changes).
           The challenge's single use is the center's check; ours against replay is the transaction id,
           unique in the log.
        2. Idempotency: a transaction id seen before answers what it answered the first time (same request
           digest and card), or is refused (different request: conflict; failed or completed: closed).
        3. Map the card to the applicant in the live registry (unknown card: "not registered here"; 本籍地:
           the card needs a 利用登録 here).
        4. Eligibility (yakuba.issuer.eligibility) and the content, from one registry read transaction, so
           the certificate reflects the registry at this moment (stale seal or address). A refusal is
           logged with its reason code; the wire gets one generic message for every personal reason; the
           audit entry `issuance.refused` (no reason: it shows in the resident's history) commits with it.
        5. Reserve the log entry (status issuing): claims the transaction id (a concurrent duplicate gets
           nothing) and gives the document its own serial from the log's sequence, never a shared slot.
        6. Render, check and sign the PDF (yakuba.documents.issue_document), then seal it to the kiosk's
           transaction key, bound to transaction id, card fingerprint and request digest (wrong recipient).
        7. Mark the entry issued, keeping only the sealed envelope until completion, in ONE transaction with
           its `issuance.issued` audit entry (never an issuance without its entry: if the entry cannot be
           written, nothing is answered), and answer.
        Any error after step 5 marks the entry failed and re-raises: no half state is left for another
        request to pick up, and a retry of the same transaction is refused as closed.
        """
        request = submission.request
        kind = self._check_route(request)  # 0
        now = self._clock.now()
        if self._controls is not None:
            check_controls(self._controls.active_controls(now), kind=kind.value, at=now)
        cert, digest, fingerprint = self._verify_card(submission, now=now)  # 1
        card_hash = self._hasher.card(fingerprint)
        existing = self._log_store.fetch_entry(request.transaction_id)  # 2
        if existing is not None:
            return self._replay(existing, digest=digest, card_hash=card_hash)
        today = now.astimezone(JST).date()
        card_serial = format(cert.serial_number, "016X")

        def new_entry(person_hash: str | None, subject_hash: str | None) -> NewEntry:
            return NewEntry(
                transaction_id=request.transaction_id,
                request_digest=digest,
                card_hash=card_hash,
                kiosk_id=request.kiosk_id,
                chain_id=submission.chain_id,
                kind=kind.value,
                basis=request.basis.value,
                copies=request.copies,
                fee_yen=submission.fee_yen,
                person_hash=person_hash,
                created_at=now,
                subject_hash=subject_hash,
            )

        try:  # 3, 4
            prepared = self._planner.prepare(
                request, kind=kind, card_serial=card_serial, fingerprint=fingerprint, today=today
            )
        except Refusal as refusal:
            subject = None if refusal.subject is None else self._audit.subject(refusal.subject)
            audit = self._audit.refused(
                subject=subject,
                at=now,
                transaction_id=request.transaction_id,
                kind=kind.value,
                city=request.city,
                kiosk_id=request.kiosk_id,
                chain_id=submission.chain_id,
                copies=request.copies,
            )
            self._log_store.record_refusal(new_entry(None, subject), reason=refusal.reason.value, audit=audit)
            _log.info("refused tx=%s kind=%s reason=%s", request.transaction_id, kind.value, refusal.reason.value)
            raise refusal.error() from None
        subject = self._audit.subject(prepared.subject)
        entry = self._log_store.reserve(new_entry(prepared.person_hash, subject), serial_prefix=self._prefix)  # 5
        if entry is None or entry.serial is None:
            # Another request with this transaction id got there first (a retry racing its original).
            raced = self._log_store.fetch_entry(request.transaction_id)
            if raced is None:
                raise TransactionInProgressError()
            return self._replay(raced, digest=digest, card_hash=card_hash)
        try:
            answer = self._produce(submission, entry=entry, prepared=prepared, kind=kind, now=now, digest=digest)
        except BaseException as exc:
            code = exc.code if isinstance(exc, YakubaError) else "internal_error"
            self._log_store.mark_failed(entry.id, reason=code)
            _log.warning("failed tx=%s kind=%s error=%s", request.transaction_id, kind.value, type(exc).__name__)
            if isinstance(exc, FieldTooLongError):
                # Its message quotes the value (a name, an address): keep it off the wire and out of logs.
                raise NotPrintableError() from None
            if isinstance(exc, YakubaError) and exc.code == RENDER_FAILED:
                # typst's message may quote the layout's input; the kiosk gets the generic failure.
                raise YakubaError() from None
            raise
        _log.info(
            "issued tx=%s kind=%s serial=%s pages=%d",
            request.transaction_id,
            kind.value,
            answer.document_serial,
            answer.pages,
        )
        return answer

    def _check_route(self, request: IssuanceRequest) -> DocumentKind:
        if request.city != self._city.code:
            raise WrongCityError(f"this issuer serves city {self._city.code}, not {request.city}")
        try:
            kind = DocumentKind(request.kind)
        except ValueError:
            raise KindNotServedError(f"unknown certificate kind {request.kind!r}") from None
        if SYSTEM_OF_KIND.get(kind.value) != self._system:
            raise KindNotServedError(f"{kind.value} is not held by the {self._system} system")
        return kind

    def _replay(self, entry: LogEntry, *, digest: bytes, card_hash: str) -> IssuanceAnswer:
        """The first answer for a transaction id seen again, or the reason there is none."""
        same = hmac.compare_digest(entry.request_digest, digest) and hmac.compare_digest(entry.card_hash, card_hash)
        if not same:
            _log.warning("conflict tx=%s: the transaction id was used for another request", entry.transaction_id)
            raise TransactionConflictError()
        match entry.status:
            case EntryStatus.ISSUED:
                if entry.envelope is None or entry.serial is None or entry.pages is None:
                    raise TransactionClosedError()
                _log.info("replayed tx=%s", entry.transaction_id)
                return IssuanceAnswer(
                    transaction_id=entry.transaction_id,
                    envelope=entry.envelope,
                    document_serial=entry.serial,
                    pages=entry.pages,
                    fee_yen=entry.fee_yen,
                    issuer_id=self._issuer_id,
                )
            case EntryStatus.ISSUING:
                raise TransactionInProgressError()
            case EntryStatus.REFUSED:
                raise error_for(entry.reason or Reason.INVALID_OPTION)
            case _:
                raise TransactionClosedError()

    def _produce(
        self,
        submission: RoutedSubmission,
        *,
        entry: LogEntry,
        prepared: Prepared,
        kind: DocumentKind,
        now: dt.datetime,
        digest: bytes,
    ) -> IssuanceAnswer:
        """Steps 6 and 7 for a reserved entry."""
        assert entry.serial is not None
        request = submission.request
        header = DocumentHeader.for_city(
            city_code=self._city.code,
            city_name=self._city.name,
            mayor_title=self._city.mayor_title,
            mayor_name=self._city.mayor_name,
            kind=kind,
            serial=entry.serial,
            issued_at=now,
        )
        issued = self._press.issue(DocumentRequest(header=header, content=prepared.content))  # 6
        binding = SealingBinding(
            transaction_id=request.transaction_id,
            card_fingerprint=card_fingerprint(submission.card_certificate),
            request_digest=digest,
            purpose=SEALING_PURPOSE,
        )
        envelope = seal(issued.pdf, recipient_public=request.transaction_key, binding=binding)
        answer = IssuanceAnswer(
            transaction_id=request.transaction_id,
            envelope=envelope,
            document_serial=entry.serial,
            pages=issued.pages,
            fee_yen=submission.fee_yen,
            issuer_id=self._issuer_id,
        )
        audit = self._audit.issued(
            subject=entry.subject_hash,
            at=now,
            transaction_id=request.transaction_id,
            kind=kind.value,
            city=request.city,
            kiosk_id=request.kiosk_id,
            chain_id=submission.chain_id,
            copies=request.copies,
            document_serial=entry.serial,
        )
        self._log_store.mark_issued(  # 7
            entry.id,
            pages=issued.pages,
            issued_at=now,
            content_digest=issued.summary.content_digest.hex(),
            envelope=envelope,
            audit=audit,
        )
        return answer

    # --- steps 3 and 4: the applicant, eligibility and content ----------------------------------------------
