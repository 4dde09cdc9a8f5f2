"""The certificate issuer's logic: verify the card again, decide eligibility, render, seal, log; no HTTP, no ORM."""

from __future__ import annotations

import datetime as dt
import hmac
import logging

from cryptography import x509

from yakuba.clock import JST, Clock
from yakuba.config import CityConfig
from yakuba.documents import DocumentHeader, DocumentKind, DocumentRequest
from yakuba.documents.errors import FieldTooLongError
from yakuba.errors import NotFoundError, StoreError, ValidationError, YakubaError
from yakuba.forwarder.errors import WrongCityError
from yakuba.forwarder.routing import SYSTEM_OF_KIND
from yakuba.issuer.audit_trail import IssuerAudit
from yakuba.issuer.eligibility import Reason, Refusal, error_for
from yakuba.issuer.errors import (
    KindNotServedError,
    NotPrintableError,
    TransactionClosedError,
    TransactionConflictError,
    TransactionInProgressError,
)
from yakuba.issuer.log_entry import (
    DocumentStatus,
    EntryClosing,
    EntryStatus,
    LogEntry,
    NewEntry,
    document_status_of,
    serial_prefix,
)
from yakuba.issuer.person_hash import PersonHasher
from yakuba.issuer.planning import CertificatePlanner, Prepared
from yakuba.issuer.ports import CardTrustSource, DocumentPress, IssuanceLog, RegistrySource, ServiceControlSource
from yakuba.issuer.service_controls import check_controls
from yakuba.wire.card_auth import verify_card_authentication
from yakuba.wire.digest import request_digest
from yakuba.wire.messages import (
    HISTORY_PURPOSE,
    MAX_HISTORY_RECORDS,
    CompletionBatch,
    CompletionBatchAnswer,
    CompletionResult,
    HistoryAnswer,
    HistoryDocument,
    IssuanceAnswer,
    IssuanceRequest,
    Outcome,
    RoutedSubmission,
    TaggedCompletion,
    TaggedHistorySubmission,
)
from yakuba.wire.sealing import SealingBinding, card_fingerprint, seal

__all__ = [
    "CITY_ALLOWS_INDIVIDUAL_NUMBER",
    "INTERRUPTED",
    "INTERRUPTED_AFTER",
    "RENDER_FAILED",
    "SEALING_PURPOSE",
    "IssuerService",
]

_log = logging.getLogger("yakuba.issuer")

CITY_ALLOWS_INDIVIDUAL_NUMBER = True
"""Whether 住民票の写し may show 個人番号 when the resident asks; the deployment configuration has no
per-city setting for it yet, and the nationwide service offers the option."""

SEALING_PURPOSE = "certificate"
"""The purpose bound into every seal: the kiosk opens certificates with this purpose only."""

RENDER_FAILED = "render_failed"
"""yakuba.documents' code for a layout typst rejected (a template bug, never the resident's fault)."""

INTERRUPTED = "interrupted"
"""The reason of an entry whose process died between the reservation and the answer (see INTERRUPTED_AFTER)."""

INTERRUPTED_AFTER = dt.timedelta(minutes=10)
"""How long an entry may stay `issuing` before it is taken for interrupted: far beyond any render and beyond
every caller's timeout (the kiosk gave up and was never charged), so no live request is ever failed."""


class IssuerService:
    """One city system's issuance server: RoutedSubmission in, sealed IssuanceAnswer out.

    Build it with `yakuba.issuer.app.build_service` (from the deployment) or directly with its seams.
    Every call is independent: nothing mutable is shared between requests except the log (a database,
    keyed by transaction id) and the document press (behind its lock), so concurrent requests never see
    each other's data.
    """

    def __init__(
        self,
        *,
        city: CityConfig,
        system: str,
        issuer_id: str,
        registry: RegistrySource,
        log: IssuanceLog,
        trust: CardTrustSource,
        press: DocumentPress,
        hasher: PersonHasher,
        audit: IssuerAudit,
        clock: Clock,
        city_allows_individual_number: bool = CITY_ALLOWS_INDIVIDUAL_NUMBER,
        controls: ServiceControlSource | None = None,
    ) -> None:
        """CONTROLS: the city's service controls (a suspended kind, a maintenance window); None: none apply."""
        self._city = city
        self._controls = controls
        self._system = system
        self._issuer_id = issuer_id
        self._planner = CertificatePlanner(
            registry=registry, hasher=hasher, city_allows_individual_number=city_allows_individual_number
        )
        self._log_store = log
        self._trust = trust
        self._press = press
        self._hasher = hasher
        self._audit = audit
        self._clock = clock
        self._prefix = serial_prefix(city_code=city.code, system=system)  # ValidationError for an unknown system

    @property
    def issuer_id(self) -> str:
        return self._issuer_id

    @property
    def city_code(self) -> str:
        return self._city.code

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

    def _verify_card(
        self, submission: RoutedSubmission | TaggedHistorySubmission, *, now: dt.datetime
    ) -> tuple[x509.Certificate, bytes, str]:
        """Verify the card's signature over this exact request ourselves (end to end: a relay cannot alter it);
        return the card certificate, the request digest and the certificate's fingerprint."""
        request = submission.request
        digest = request_digest(request.signed_form())
        cert = verify_card_authentication(
            trust=self._trust.current(),
            certificate_der=submission.card_certificate,
            signature=submission.signature,
            challenge=submission.challenge,
            request_digest=digest,
            kiosk_id=request.kiosk_id,
            now=now,
        )
        return cert, digest, card_fingerprint(submission.card_certificate)

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
    # --- completion and verification ----------------------------------------------------------------------
    def fail_interrupted(self) -> int:
        """Mark failed the entries left `issuing` by a process that died mid-issuance (reserved more than
        INTERRUPTED_AFTER ago); the number marked. Nothing was answered for them (the answer follows the
        `issued` mark), so nothing was printed or charged: the log now says so instead of showing them in
        progress forever, and a retry of the same transaction is refused as closed, as for any failure."""
        swept = self._log_store.fail_interrupted(
            reserved_before=self._clock.now() - INTERRUPTED_AFTER, reason=INTERRUPTED
        )
        if swept:
            _log.warning("%d issuance(s) left in progress by an interrupted process marked failed", swept)
        return swept

    def complete_batch(self, batch: CompletionBatch) -> CompletionBatchAnswer:
        """Close the log entries of BATCH's reports with the kiosks' outcomes and delete the kept envelopes.

        1. Read every entry the batch names, in one query (without the envelopes).
        2. Judge each report on its own (`_judge_completion`): its entry exists, belongs to this kiosk, city
           and kind, and the counts agree with the outcome and the copies asked for. A refused report gets its
           code with retry=false (resending it will never help) and never refuses the others.
        3. Close the entries of the admitted reports in ONE transaction, each only if still open (issued; or
           issuing, for abandoned: one conditional update, so a retried or concurrent report gets
           closed=false and changes nothing), each with its `issuance.completed` audit entry. A StoreError (the
           log's database failed: the transaction rolled back, none of them written) gives every admitted
           report retry=true, so the HQ sends them again.
        The answer has exactly one result per report, in the batch's order.
        """
        entries = self._log_store.fetch_entries([c.transaction_id for c in batch.completions], with_envelope=False)
        results: dict[int, CompletionResult] = {}
        admitted: list[tuple[int, EntryClosing]] = []
        for index, completion in enumerate(batch.completions):  # 2
            tx = completion.transaction_id
            try:
                admitted.append((index, self._judge_completion(completion, entries.get(tx))))
            except YakubaError as exc:
                _log.info("completion refused tx=%s error=%s", tx, exc.code)
                results[index] = CompletionResult(transaction_id=tx, error=exc.code, retry=False)
        try:
            closed = self._log_store.close_many([closing for _, closing in admitted])  # 3
        except StoreError as exc:
            _log.warning("completion batch %s: the log could not be written (%s)", batch.batch_id, exc.code)
            for index, closing in admitted:
                results[index] = CompletionResult(transaction_id=closing.transaction_id, error=exc.code, retry=True)
        else:
            for (index, closing), done in zip(admitted, closed, strict=True):
                results[index] = CompletionResult(transaction_id=closing.transaction_id, closed=done)
        ordered = [results[index] for index in range(len(batch.completions))]
        _log.info(
            "completion batch %s: reports=%d closed=%d refused=%d",
            batch.batch_id,
            len(ordered),
            sum(1 for r in ordered if r.closed),
            sum(1 for r in ordered if r.error is not None),
        )
        return CompletionBatchAnswer(batch_id=batch.batch_id, results=ordered)

    def _judge_completion(self, completion: TaggedCompletion, entry: LogEntry | None) -> EntryClosing:
        """How COMPLETION closes ENTRY, its log entry (None: this issuer has none), with its audit entry; or
        the refusal: no such transaction, or one of another kiosk, city or kind (a relay or a kiosk closing
        someone else's transaction), or counts that do not fit the outcome and the copies asked for."""
        if entry is None:
            raise NotFoundError("this issuer has no such transaction", ja="該当する取引がありません")
        if (entry.kiosk_id, entry.kind) != (completion.kiosk_id, completion.kind) or completion.city != self._city.code:
            _log.warning("completion mismatch tx=%s", completion.transaction_id)
            raise ValidationError(
                "the completion does not match the transaction it names", ja="完了報告が取引の内容と一致しません"
            )
        _check_counts(completion, requested=entry.copies)
        status = EntryStatus(completion.outcome.value)
        now = self._clock.now()
        audit = self._audit.completed(
            subject=entry.subject_hash,
            at=now,
            transaction_id=entry.transaction_id,
            kind=entry.kind,
            city=self._city.code,
            kiosk_id=entry.kiosk_id,
            chain_id=entry.chain_id,
            outcome=status.value,
            copies_printed=completion.copies_printed,
            copies_voided=completion.copies_voided,
        )
        return EntryClosing(
            transaction_id=entry.transaction_id,
            status=status,
            copies_printed=completion.copies_printed,
            copies_voided=completion.copies_voided,
            at=now,
            audit=audit,
        )

    # --- the resident's own history --------------------------------------------------------------------------
    def history(self, submission: TaggedHistorySubmission) -> HistoryAnswer:
        """The issuances about the card's holder that this issuer logged, sealed to the kiosk's transaction key.

        0. The request is for this city (misrouting).
        1. Verify the card authentication again, here (end to end, as for an issuance: a relay that altered
           the request or the kiosk id, or a revoked or self-made card, fails). The challenge's single use is
           the center's check.
        2. Map the card to the person in the live registry (unknown card: card_not_registered), and to their
           audit subject hashes; nobody else's subject is ever asked for.
        3. Read that person's own entries from this issuer's audit log (each body re-checked against its
           leaf hash), reduced to time, kind, kiosk, store and outcome: no reason, no serial, no content.
        4. Record the reading in the audit log before anything is sealed: one `history.read` entry per
           subject hash of the person (their resident and register-member subjects, each found by its own
           subject later: an inquiry about either identity sees every reading of the issuances under it),
           with the kiosk transaction, city, kiosk, chain and the number of records shown, all in one
           transaction. An entry that cannot be written means no answer (StoreError), as an issuance is not
           answered without its entry: a stolen card and PIN cannot read a history unseen. A request refused
           at 0-2 read nothing and writes nothing. The reading is not listed in the history itself
           (audit_trail.EVENT_HISTORY_READ says why).
        5. Seal the list to the kiosk's transaction key, bound to transaction id, card fingerprint, request
           digest and the purpose "history": only that kiosk transaction can read it, no relay can, and it
           never opens as a certificate (wrong recipient, type confusion).
        """
        request = submission.request
        if request.city != self._city.code:  # 0
            raise WrongCityError(f"this issuer serves city {self._city.code}, not {request.city}")
        now = self._clock.now()
        cert, digest, fingerprint = self._verify_card(submission, now=now)  # 1
        refs = self._planner.card_subjects(card_serial=format(cert.serial_number, "016X"), fingerprint=fingerprint)
        subjects = list(dict.fromkeys(self._audit.subject(ref) for ref in refs))  # 2
        records = self._audit.history(subjects)[-MAX_HISTORY_RECORDS:]  # 3
        self._audit.write_alone(  # 4
            [
                self._audit.history_read(
                    subject=subject,
                    at=now,
                    transaction_id=request.transaction_id,
                    city=request.city,
                    kiosk_id=request.kiosk_id,
                    chain_id=submission.chain_id,
                    records=len(records),
                )
                for subject in subjects
            ]
        )
        document = HistoryDocument(
            transaction_id=request.transaction_id, city=self._city.code, issuer_id=self._issuer_id, records=records
        )
        binding = SealingBinding(
            transaction_id=request.transaction_id,
            card_fingerprint=fingerprint,
            request_digest=digest,
            purpose=HISTORY_PURPOSE,
        )
        envelope = seal(  # 5
            document.model_dump_json().encode("utf-8"), recipient_public=request.transaction_key, binding=binding
        )
        _log.info("history tx=%s kiosk=%s records=%d", request.transaction_id, request.kiosk_id, len(records))
        return HistoryAnswer(transaction_id=request.transaction_id, envelopes=[envelope])

    def document_status(self, serial: str) -> DocumentStatus:
        """The verification answer for SERIAL: issued here, its kind, city, day and status; no personal data."""
        return document_status_of(self._log_store.fetch_by_serial(serial), serial=serial, city_code=self._city.code)


def _check_counts(completion: TaggedCompletion, *, requested: int) -> None:
    printed, voided = completion.copies_printed, completion.copies_voided
    consistent = {
        Outcome.PRINTED: printed >= 1,
        Outcome.JAM_VOIDED: printed == 0 and voided >= 1,
        Outcome.ABANDONED: printed == 0 and voided == 0,
    }[completion.outcome]
    if not consistent or printed + voided > requested:
        raise ValidationError(
            "the copies reported do not agree with the outcome or the copies asked for",
            ja="報告された枚数が結果または申請枚数と一致しません",
        )
