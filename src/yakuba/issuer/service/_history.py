"""The resident's own history: their issuances read from the audit log, the reading logged, the list sealed."""

from __future__ import annotations

import logging

from yakuba.forwarder.errors import WrongCityError
from yakuba.issuer.service._base import ServiceBase
from yakuba.wire.messages import (
    HISTORY_PURPOSE,
    MAX_HISTORY_RECORDS,
    HistoryAnswer,
    HistoryDocument,
    TaggedHistorySubmission,
)
from yakuba.wire.sealing import SealingBinding, seal

__all__ = ["HistorySteps"]

_log = logging.getLogger("yakuba.issuer")


class HistorySteps(ServiceBase):
    """Answer a resident's request for their own issuance history, sealed to the kiosk."""

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
