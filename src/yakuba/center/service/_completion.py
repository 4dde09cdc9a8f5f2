"""Completions passed to their cities and settlement lines closed in batches; settlement and operations."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from yakuba.center.errors import TransactionMismatchError
from yakuba.center.ports import LineClosing, LineStatus, SettlementLine, SettlementRow, month_bounds
from yakuba.center.service._base import CenterBase
from yakuba.errors import NotFoundError, ValidationError, YakubaError
from yakuba.wire.batches import batch_tally, send_batch_on
from yakuba.wire.messages import (
    CompletionBatch,
    CompletionBatchAnswer,
    CompletionResult,
    Outcome,
    TaggedCompletion,
)

__all__ = ["CompletionSteps"]

_log = logging.getLogger("yakuba.center")


class CompletionSteps(CenterBase):
    """Completion batches, settlement totals and lifting a city's suspension."""

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
