"""The resident's own issuance history at the kiosk (「私の交付履歴」): card, PIN, signed request, sealed answers."""

from __future__ import annotations

import datetime as dt
import logging
import re
import uuid
from dataclasses import dataclass

from yakuba.documents import DocumentKind
from yakuba.errors import CardLockedError, ValidationError
from yakuba.kiosk.errors import DocumentRefusedError, StepOrderError
from yakuba.kiosk.service._ports import KioskCardReader
from yakuba.kiosk.service._session import Kiosk
from yakuba.wire.card_auth import card_auth_digest
from yakuba.wire.digest import request_digest
from yakuba.wire.messages import (
    HISTORY_PURPOSE,
    HistoryDocument,
    HistoryOutcome,
    HistoryRequest,
    HistorySubmission,
)
from yakuba.wire.sealing import SealingBinding, TransactionKey, card_fingerprint

__all__ = ["HistoryLine", "run_history"]

_log = logging.getLogger("yakuba.kiosk")

_CITY = re.compile(r"\d{6}")


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryLine:
    """One certificate issued about the resident (or refused): when, what, where, how it ended. No content."""

    at: dt.datetime
    """In JST."""
    kind: str
    city: str
    kiosk_id: str
    chain_id: str
    store: str
    outcome: HistoryOutcome
    copies: int
    issuer_id: str

    @property
    def kind_ja(self) -> str:
        """The certificate's Japanese title (the code itself for a kind this kiosk does not know)."""
        try:
            return DocumentKind(self.kind).title_ja
        except ValueError:
            return self.kind


async def run_history(kiosk: Kiosk, *, reader: KioskCardReader, city: str, pin: str) -> list[HistoryLine]:
    """The resident's issuance history in CITY, oldest first, read with their card and PIN.

    1. Read the card's auth certificate and its tries left; a locked card goes no further.
    2. VERIFY the PIN (a wrong PIN raises WrongPinError with the tries left; nothing was sent).
    3. Ask HQ for a one-time challenge for this kiosk (stops replay of a captured request).
    4. Make a fresh TransactionKey for this request only (stops anyone else, every relay included, reading
       the answer; dropped when this call returns).
    5. The card, still inserted, signs card_auth_digest(challenge, request_digest(request), kiosk id) over a
       HistoryRequest that names its purpose (a history signature is never an issuance signature).
    6. The card comes out before anything is sent (the forgotten-card measure), whatever happens.
    7. Send via HQ with Idempotency-Key = the transaction id; the answer must name this transaction.
    8. Open EVERY envelope with this key under the binding: this transaction, this card's fingerprint, this
       request digest, purpose "history" (stops another person's history, another request's, or a
       certificate envelope from being shown); each must be for this transaction and city.
    9. Merge the issuers' records by time. Nothing of it is logged or kept at the kiosk.
    """
    if not _CITY.fullmatch(city):
        raise ValidationError("a city is chosen by its 6-digit code", ja="市区町村を選んでください。")
    if kiosk.busy:
        raise StepOrderError("a transaction is still in progress on this kiosk")
    try:
        reader.select_jpki_ap()  # 1
        certificate = reader.read_auth_certificate()
        if reader.pin_tries_left() == 0:
            raise CardLockedError()
        reader.verify_pin(pin)  # 2
        challenge = await kiosk.hq.challenge()  # 3
        key = TransactionKey.generate()  # 4
        request = HistoryRequest(
            transaction_id=f"tx-{uuid.uuid4().hex}",
            kiosk_id=kiosk.kiosk_id,
            city=city,
            transaction_key=key.public_bytes(),
            requested_at=kiosk.clock.now().isoformat(timespec="seconds"),
        )
        digest = request_digest(request.signed_form())
        signature = reader.sign_digest(  # 5
            card_auth_digest(challenge=challenge.challenge, request_digest=digest, kiosk_id=request.kiosk_id)
        )
    finally:
        reader.end_session()  # 6
    submission = HistorySubmission(
        request=request, challenge=challenge.challenge, card_certificate=certificate, signature=signature
    )
    answer = await kiosk.hq.history(submission)  # 7
    if answer.transaction_id != request.transaction_id:
        _log.error("history tx=%s refused: the answer is for another transaction", request.transaction_id)
        raise DocumentRefusedError("the history answer is for another transaction")
    binding = SealingBinding(
        transaction_id=request.transaction_id,
        card_fingerprint=card_fingerprint(certificate),
        request_digest=digest,
        purpose=HISTORY_PURPOSE,
    )
    lines: list[HistoryLine] = []
    for envelope in answer.envelopes:  # 8
        try:
            document = HistoryDocument.model_validate_json(key.open(envelope, binding=binding))
        except Exception as exc:  # a wrong key or binding (cryptography), or a malformed document
            _log.error("history tx=%s refused: an envelope does not open for this request", request.transaction_id)
            raise DocumentRefusedError("the history is not sealed for this request") from exc
        if (document.transaction_id, document.city) != (request.transaction_id, request.city):
            _log.error("history tx=%s refused: a part is for another request", request.transaction_id)
            raise DocumentRefusedError("the history is not the one requested")
        lines += [
            HistoryLine(
                at=dt.datetime.fromisoformat(record.at),
                kind=record.kind,
                city=record.city,
                kiosk_id=record.kiosk_id,
                chain_id=record.chain_id,
                store=record.store,
                outcome=record.outcome,
                copies=record.copies,
                issuer_id=document.issuer_id,
            )
            for record in document.records
        ]
    _log.info("history tx=%s shown: %d line(s)", request.transaction_id, len(lines))
    return sorted(lines, key=lambda line: line.at)  # 9
