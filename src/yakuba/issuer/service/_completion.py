"""Closing the log: completion batches judged report by report, interrupted issuances swept, a serial's status."""

from __future__ import annotations

import logging

from yakuba.errors import NotFoundError, StoreError, ValidationError, YakubaError
from yakuba.issuer.log_entry import DocumentStatus, EntryClosing, EntryStatus, LogEntry, document_status_of
from yakuba.issuer.service._base import INTERRUPTED, INTERRUPTED_AFTER, ServiceBase
from yakuba.wire.messages import (
    CompletionBatch,
    CompletionBatchAnswer,
    CompletionResult,
    Outcome,
    TaggedCompletion,
)

__all__ = ["CompletionSteps"]

_log = logging.getLogger("yakuba.issuer")


class CompletionSteps(ServiceBase):
    """Close issued entries with the kiosks' outcomes, fail the interrupted ones, answer a serial's status."""

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
