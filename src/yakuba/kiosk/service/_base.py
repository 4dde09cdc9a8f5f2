"""What every step of a resident's session shares: its state, the order and idle checks, and ending it."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TypeVar

from yakuba.errors import YakubaError
from yakuba.kiosk.errors import CardStillInsertedError, DocumentRefusedError, KioskTimeoutError, StepOrderError
from yakuba.kiosk.service._coins import CoinBox
from yakuba.kiosk.service._ports import KioskCardReader, LogEntry
from yakuba.kiosk.service._values import FeeQuote, Step
from yakuba.wire.messages import Basis, CompletionReport, IssuanceAnswer, IssuanceRequest, IssuanceSubmission, Outcome
from yakuba.wire.sealing import TransactionKey

if TYPE_CHECKING:
    from yakuba.kiosk.service._session import Kiosk

__all__ = ["STEP_TIMEOUT", "SessionBase"]

_log = logging.getLogger("yakuba.kiosk")

STEP_TIMEOUT = dt.timedelta(seconds=120)
"""A person idle for two minutes at one step has walked away: the transaction is cancelled and refunded, so
nothing is left half-done for the next person at the machine."""

_T = TypeVar("_T")

_FINISHED = frozenset({Step.DONE, Step.ABORTED})


class SessionBase:
    """One resident's transaction underneath its steps (`KioskSession` is the whole session; see its docstring)."""

    def __init__(self, *, kiosk: Kiosk) -> None:
        self._kiosk = kiosk
        self._step = Step.IDLE
        self._last_input: dt.datetime | None = None
        self._coins = CoinBox()
        self._reader: KioskCardReader | None = None
        self._card_certificate: bytes | None = None
        self._basis: Basis | None = None
        self._city: str | None = None
        self._choice: tuple[str, dict[str, bool | int | str | list[int]], int] | None = None
        self._key: TransactionKey | None = None
        self._request: IssuanceRequest | None = None
        self._submission: IssuanceSubmission | None = None
        self._submitted = False
        self._answer: IssuanceAnswer | None = None
        self._document: bytes | None = None
        self._printed: tuple[Path, ...] = ()

    # -- what the screen shows --------------------------------------------------------------------------------

    @property
    def step(self) -> Step:
        return self._step

    @property
    def finished(self) -> bool:
        return self._step in _FINISHED

    @property
    def transaction_id(self) -> str | None:
        return None if self._request is None else self._request.transaction_id

    @property
    def card_inserted(self) -> bool:
        return self._reader is not None

    @property
    def reminder_active(self) -> bool:
        """The forgotten-certificate reminder: it sounds from printing until the certificate is taken."""
        return self._step is Step.PRINTED

    def pin_tries_left(self) -> int:
        """Tries left before the card locks, read from the card without using one."""
        return self._require_reader().pin_tries_left()

    # -- inside ------------------------------------------------------------------------------------------------

    async def _enter(self, *allowed: Step, timed: bool = True) -> None:
        if self._step not in allowed:
            raise StepOrderError(f"this cannot be done at step {self._step.value}")
        now = self._kiosk.clock.now()
        if timed and self._last_input is not None and now - self._last_input > STEP_TIMEOUT:
            await self._abort("timeout")
            raise KioskTimeoutError()
        self._last_input = now

    def _require_reader(self) -> KioskCardReader:
        if self._reader is None:
            raise StepOrderError("no card is in the reader")
        return self._reader

    def _require_card_out(self) -> None:
        if self._reader is not None:
            raise CardStillInsertedError()

    def _quote(self) -> FeeQuote:
        request, answer = _held(self._request), _held(self._answer)
        return FeeQuote(
            transaction_id=request.transaction_id,
            kind=request.kind,
            copies=request.copies,
            fee_per_copy=answer.fee_yen,
            total_yen=answer.fee_yen * request.copies,
            document_serial=answer.document_serial,
            pages=answer.pages,
        )

    async def _refuse(self, reason: str, detail: str, cause: BaseException | None = None) -> NoReturn:
        # An integrity refusal is an alert (invariant 6), never a quiet retry.
        _log.error("tx=%s refused before printing: %s", self.transaction_id, reason)
        await self._abort(reason)
        raise DocumentRefusedError(detail) from cause

    async def _abort(self, reason: str) -> tuple[int, ...]:
        """End the transaction with nothing charged: refund, erase, report `abandoned`, log; card untouched."""
        if self._step in _FINISHED or self._step is Step.PRINTED:
            return ()  # after printing the money is settled and the outcome reported: nothing to undo
        self._step = Step.ABORTED
        refunded = self._coins.refund_all()
        request = self._request
        if request is not None:
            self._kiosk.printer.discard(request.transaction_id)
            report = CompletionReport(
                transaction_id=request.transaction_id,
                outcome=Outcome.ABANDONED,
                copies_printed=0,
                copies_voided=0,
                reason=reason,
            )
            reported = await self._report(report) if self._submitted else False
            self._record(report, amount=0, reported=reported)
        self._forget()
        return refunded

    async def _report(self, report: CompletionReport) -> bool:
        try:
            await self._kiosk.hq.complete(report)
        except YakubaError as exc:
            _log.warning("tx=%s completion not acknowledged (%s)", report.transaction_id, exc.code)
            return False
        return True

    def _record(self, report: CompletionReport, *, amount: int, reported: bool) -> None:
        request = _held(self._request)
        entry = LogEntry(
            transaction_id=request.transaction_id,
            recorded_at=self._kiosk.clock.now(),
            kind=request.kind,
            copies=request.copies,
            outcome=report.outcome,
            copies_printed=report.copies_printed,
            copies_voided=report.copies_voided,
            amount_yen=amount,
            reason=report.reason,
            reported=reported,
        )
        try:
            self._kiosk.log.record(entry)
        except YakubaError as exc:
            _log.error("tx=%s could not be written to the local log (%s)", request.transaction_id, exc.code)

    def _forget(self) -> None:
        """Drop the document, the transaction key, the signed submission and the card's certificate (its serial
        is personal data outside the city)."""
        self._document = None
        self._key = None
        self._submission = None
        self._answer = None
        self._card_certificate = None


def _held(value: _T | None) -> _T:
    """A value the current step must already have; its absence is a step taken out of order."""
    if value is None:
        raise StepOrderError("the transaction has not reached this step")
    return value


def _reason(exc: BaseException) -> str:
    """The reason code reported for an abort: the error's code, never its text."""
    return exc.code if isinstance(exc, YakubaError) else YakubaError.code
