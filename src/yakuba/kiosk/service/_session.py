"""The resident's flow at the kiosk as a state machine, with the issuance's security procedure in its steps.

Flow (domain.md, "The resident's flow at the kiosk"), with one deliberate change of order:

    start -> insert_card -> choose_basis -> choose -> enter_pin -> remove_card
          -> request_issuance -> confirm_fee -> pay -> print -> take_certificate

The resident chooses the certificate, options and copies BEFORE the PIN, not after removing the card as on
today's machines. The card's signature must cover the exact request (city, kind, options, copies and the
transaction key) so that the issuer can check end to end what was asked and bind the sealed document to it;
a card that has left the reader cannot sign a choice made afterwards, and a signature made at PIN time over a
request "completed later" would not cover what is issued. The PIN is therefore the resident's confirmation
of the choice, the card signs while still inserted, and then it must come out: nothing is sent, paid or
printed until it has (the forgotten-card measure is kept, only earlier).
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import uuid
from collections.abc import Mapping

from pydantic import ValidationError as SchemaError

from yakuba.clock import Clock
from yakuba.documents import DocumentKind, DocumentTrust, VerifiedDocument, verify_document
from yakuba.errors import CardError, CardLockedError, ValidationError
from yakuba.kiosk.errors import CardStillInsertedError, StepOrderError
from yakuba.kiosk.service._base import _FINISHED, STEP_TIMEOUT, _held, _reason
from yakuba.kiosk.service._checkout import CheckoutSteps
from yakuba.kiosk.service._coins import CHANGE_DENOMINATIONS
from yakuba.kiosk.service._ports import HqLink, KioskCardReader, KioskLog, Printer
from yakuba.kiosk.service._values import CardStatus, FeeQuote, Step
from yakuba.wire.card_auth import card_auth_digest
from yakuba.wire.digest import canonical_json, request_digest
from yakuba.wire.messages import Basis, IssuanceRequest, IssuanceSubmission
from yakuba.wire.sealing import SealingBinding, TransactionKey, card_fingerprint

__all__ = ["SEALING_PURPOSE", "STEP_TIMEOUT", "Kiosk", "KioskSession"]

_log = logging.getLogger("yakuba.kiosk")

SEALING_PURPOSE = "certificate"
"""The purpose label the issuer seals certificates under (`yakuba.wire.SealingBinding`)."""

_CITY = re.compile(r"\d{6}")
_KINDS = frozenset(kind.value for kind in DocumentKind)
_PROBE_TRANSACTION = "tx-" + "0" * 32
_PROBE_KEY = bytes(32)


_PDFIUM = threading.Lock()
"""pdfium (inside verify_document) is not thread-safe and is one library per process: a process hosting several
kiosks (tests, `yakuba torture`) verified two documents at once in worker threads and died in libpdfium
(SIGTRAP), found by `yakuba torture`. One verification at a time per process; a lone kiosk never waits."""


def _verify_alone(document: bytes, trust: DocumentTrust) -> VerifiedDocument:
    with _PDFIUM:
        return verify_document(document, trust=trust)


class Kiosk:
    """One kiosk terminal: its id, its link to HQ, its printer, its local log, and the document trust it verifies
    certificates with. One resident's session at a time."""

    def __init__(
        self,
        *,
        kiosk_id: str,
        hq: HqLink,
        printer: Printer,
        log: KioskLog,
        trust: DocumentTrust,
        clock: Clock,
    ) -> None:
        self.kiosk_id = kiosk_id
        self.hq = hq
        self.printer = printer
        self.log = log
        self.trust = trust
        self.clock = clock
        self._active: KioskSession | None = None

    @property
    def busy(self) -> bool:
        """Whether a resident's transaction is still going on this kiosk."""
        return self._active is not None and not self._active.finished

    def new_session(self) -> KioskSession:
        """A session for the next resident; StepOrderError while another one is still going."""
        if self._active is not None and not self._active.finished:
            raise StepOrderError("a transaction is still in progress on this kiosk")
        self._active = KioskSession(kiosk=self)
        return self._active


class KioskSession(CheckoutSteps):
    """One resident's transaction, step by step (see the module docstring for the order and why).

    Every step checks that it comes in order (StepOrderError, nothing changes) and that the resident has not
    been idle longer than STEP_TIMEOUT (the transaction is aborted, KioskTimeoutError). Any error in a step
    that talks to HQ, opens or verifies the document aborts the whole transaction: coins in escrow are
    returned, nothing is spooled, `abandoned` is reported to HQ (best effort) if the request was sent, the local
    log records it, and the card is not touched again. Money is kept only after printing, and only for the
    copies printed.
    """

    # -- the steps ---------------------------------------------------------------------------------------------
    # (confirm_fee, pay, print and take_certificate, after request_issuance, are in CheckoutSteps: _checkout.py)

    async def start(self) -> None:
        """行政サービス: the resident starts the administrative service."""
        await self._enter(Step.IDLE)
        self._step = Step.SERVICE

    async def insert_card(self, reader: KioskCardReader) -> CardStatus:
        """The card is placed: select the JPKI application, read the auth certificate, show the tries left.

        A locked card (no tries left) ends the session: the resident is sent to the city counter.
        """
        await self._enter(Step.SERVICE)
        self._reader = reader
        try:
            reader.select_jpki_ap()
            self._card_certificate = reader.read_auth_certificate()
            tries = reader.pin_tries_left()
        except CardError as exc:
            await self._abort(exc.code)
            raise
        if tries == 0:
            await self._abort(CardLockedError.code)
            raise CardLockedError()
        self._step = Step.CARD
        return CardStatus(tries_left=tries)

    async def choose_basis(self, basis: Basis | str, city: str) -> None:
        """住所地 (residence) or 本籍地 (honseki), and the city whose registers are asked."""
        await self._enter(Step.CARD)
        try:
            chosen = Basis(basis)
        except ValueError as exc:
            raise ValidationError("basis must be residence or honseki", ja="住所地か本籍地を選んでください。") from exc
        if not _CITY.fullmatch(city):
            raise ValidationError("a city is chosen by its 6-digit code", ja="市区町村を選んでください。")
        self._basis, self._city = chosen, city
        self._step = Step.BASIS

    async def choose(
        self, kind: str, options: Mapping[str, bool | int | str | list[int]] | None = None, copies: int = 1
    ) -> None:
        """The certificate, its options and the number of copies (checked now against the message contract)."""
        await self._enter(Step.BASIS)
        if kind not in _KINDS:
            raise ValidationError(f"unknown certificate kind {kind!r}", ja="この証明書は選べません。")
        chosen = dict(options or {})
        canonical_json(chosen)  # floats and odd types are refused before anything is signed
        self._probe(kind=kind, options=chosen, copies=copies)
        self._choice = (kind, chosen, copies)
        self._step = Step.CHOSEN

    async def enter_pin(self, pin: str) -> None:
        """Verify the PIN, then have the card sign exactly this request.

        1. VERIFY the PIN on the card. A wrong PIN costs a try and raises WrongPinError with the tries left
           (the resident may try again); a PIN not of 4 digits costs nothing; a card that locks now ends the
           session (CardLockedError).
        2. Ask HQ for a one-time challenge for this kiosk (stops replay: the signature is good once, briefly).
        3. Make a fresh TransactionKey for this transaction only (stops anyone but this transaction opening
           the document; dropped when the transaction ends).
        4. Build the IssuanceRequest: a fresh random transaction id, this kiosk, the choices, the key's public
           half, the time (stops one transaction's answer from fitting another's).
        5. The card, still inserted, signs card_auth_digest(challenge, request_digest(request), kiosk id)
           (stops a relay changing what was asked, and the signature being used at another kiosk).
        Any failure after step 1 aborts the transaction.
        """
        await self._enter(Step.CHOSEN)
        reader = self._require_reader()
        try:
            reader.verify_pin(pin)  # 1
        except CardLockedError:
            await self._abort(CardLockedError.code)
            raise
        # WrongPinError and PinFormatError propagate: the session stays at this step for another try.
        try:
            challenge = await self._kiosk.hq.challenge()  # 2
            key = TransactionKey.generate()  # 3
            request = self._build_request(key)  # 4
            digest = request_digest(request.signed_form())
            to_sign = card_auth_digest(challenge=challenge.challenge, request_digest=digest, kiosk_id=request.kiosk_id)
            signature = reader.sign_digest(to_sign)  # 5
        except Exception as exc:
            await self._abort(_reason(exc))
            raise
        self._key, self._request = key, request
        self._submission = IssuanceSubmission(
            request=request,
            challenge=challenge.challenge,
            card_certificate=_held(self._card_certificate),
            signature=signature,
        )
        self._step = Step.SIGNED

    async def remove_card(self) -> None:
        """The card is taken out. After the PIN this lets the flow go on; earlier, it cancels the transaction."""
        reader = self._require_reader()
        self._reader = None
        reader.end_session()
        if self._step is Step.SIGNED:
            self._step = Step.CARD_REMOVED
        elif self._step not in _FINISHED:
            await self._abort("card_removed")

    async def request_issuance(self) -> FeeQuote:
        """Send the signed request and accept the certificate only if it is ours and genuine, before any payment.

        4. Submit via HQ with Idempotency-Key = the transaction id (a retry never issues twice).
        5. Before taking payment or printing:
           a. the answer names this transaction (stops a mixed-up answer);
           b. open the envelope with this transaction's key under the binding: this transaction, this card's
              certificate fingerprint, this request digest (stops another person's certificate, another
              request's, or a replayed one from being printed here: invariant 1);
           c. verify the PDF: signature and chain to the LGPKI root, the signed QR on every page, the required
              elements (stops a forged, altered or incomplete certificate);
           d. the verified certificate's city and kind are the request's, its serial and page count the
              answer's (stops a genuine certificate of another kind or city);
           e. the fee can be paid and changed in coins.
        Any failure aborts: nothing is charged or spooled, `abandoned` is reported with the reason code.
        """
        if self._reader is not None:
            raise CardStillInsertedError()
        await self._enter(Step.CARD_REMOVED)
        request, submission, key = _held(self._request), _held(self._submission), _held(self._key)
        self._submitted = True
        try:
            answer = await self._kiosk.hq.submit(submission)  # 4
        except Exception as exc:
            await self._abort(_reason(exc))
            raise
        if answer.transaction_id != request.transaction_id:  # 5a
            await self._refuse("answer_mismatch", "the answer is for another transaction")
        binding = SealingBinding(
            transaction_id=request.transaction_id,
            card_fingerprint=card_fingerprint(submission.card_certificate),
            request_digest=request_digest(request.signed_form()),
            purpose=SEALING_PURPOSE,
        )
        try:
            document = key.open(answer.envelope, binding=binding)  # 5b
        except Exception as exc:
            await self._refuse("binding_mismatch", "the certificate is not sealed for this transaction", exc)
        try:
            # In a worker thread: pyHanko's validation runs its own event loop (asyncio.run) inside.
            verified = await asyncio.to_thread(_verify_alone, document, self._kiosk.trust)  # 5c
        except Exception as exc:
            await self._refuse("document_invalid", "the certificate does not verify", exc)
        summary = verified.summary
        if (summary.city_code, summary.kind.value) != (request.city, request.kind) or (  # 5d
            summary.serial,
            verified.pages,
        ) != (answer.document_serial, answer.pages):
            await self._refuse("document_mismatch", "the certificate is not the one requested")
        if answer.fee_yen % min(CHANGE_DENOMINATIONS):  # 5e
            await self._refuse("fee_not_payable", "the fee cannot be paid in coins")
        self._answer, self._document = answer, document
        self._step = Step.VERIFIED
        _log.info("tx=%s verified kind=%s pages=%d", request.transaction_id, request.kind, answer.pages)
        return self._quote()

    async def cancel(self) -> tuple[int, ...]:
        """The resident cancels before printing: everything in the coin box comes back; returns those coins."""
        if self._step in _FINISHED or self._step is Step.PRINTED:
            raise StepOrderError(f"nothing to cancel at step {self._step.value}")
        return await self._abort("cancelled")

    # -- inside ------------------------------------------------------------------------------------------------

    def _probe(self, *, kind: str, options: dict[str, bool | int | str | list[int]], copies: int) -> None:
        """Build a throwaway request from the choices, so a bad choice is refused before the PIN."""
        try:
            IssuanceRequest(
                transaction_id=_PROBE_TRANSACTION,
                kiosk_id=self._kiosk.kiosk_id,
                city=self._city or "",
                basis=self._basis or Basis.RESIDENCE,
                kind=kind,
                options=options,
                copies=copies,
                transaction_key=_PROBE_KEY,
                requested_at=self._kiosk.clock.now().isoformat(timespec="seconds"),
            )
        except SchemaError as exc:
            where = sorted({".".join(str(p) for p in err.get("loc", ())) for err in exc.errors()})
            raise ValidationError(
                f"the choice is not valid: {', '.join(where)}", ja="選択内容に誤りがあります。"
            ) from exc

    def _build_request(self, key: TransactionKey) -> IssuanceRequest:
        kind, options, copies = _held(self._choice)
        return IssuanceRequest(
            transaction_id=f"tx-{uuid.uuid4().hex}",
            kiosk_id=self._kiosk.kiosk_id,
            city=_held(self._city),
            basis=_held(self._basis),
            kind=kind,
            options=options,
            copies=copies,
            transaction_key=key.public_bytes(),
            requested_at=self._kiosk.clock.now().isoformat(timespec="seconds"),
        )
