"""The steps after the certificate is verified: the fee, the coins in escrow, printing, the paper taken."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from yakuba.kiosk.errors import PaperJamError
from yakuba.kiosk.service._base import SessionBase, _held
from yakuba.kiosk.service._values import FeeQuote, Payment, PrintReceipt, Step
from yakuba.wire.messages import CompletionReport, Outcome

__all__ = ["CheckoutSteps"]

_log = logging.getLogger("yakuba.kiosk")


class CheckoutSteps(SessionBase):
    """confirm_fee, pay, print and take_certificate: money is kept only after printing, and only for the copies
    printed."""

    async def confirm_fee(self) -> FeeQuote:
        """The resident accepts the fee (fee per copy times copies); a zero fee needs no payment."""
        self._require_card_out()
        await self._enter(Step.VERIFIED)
        quote = self._quote()
        self._step = Step.PAID if quote.total_yen == 0 else Step.FEE_CONFIRMED
        return quote

    async def pay(self, *coins: int) -> Payment:
        """Coins and notes into the coin box (held in escrow until printing); CoinRejectedError gives one back.

        Once the fee is reached, further coins are handed straight back.
        """
        self._require_card_out()
        await self._enter(Step.FEE_CONFIRMED)
        due = self._quote().total_yen
        returned: list[int] = []
        for coin in coins:
            if self._coins.inserted >= due:
                returned.append(coin)
                continue
            self._coins.insert(coin)
        if self._coins.inserted >= due:
            self._step = Step.PAID
        return Payment(
            inserted=self._coins.inserted,
            due=due,
            remaining=max(0, due - self._coins.inserted),
            returned=tuple(returned),
        )

    async def print(self) -> PrintReceipt:
        """Print, keep the fee for printed copies only, report the outcome, log it.

        6. Payment is in escrow; nothing is kept yet.
        7. Print one copy per sheet, each its own spool file named by transaction and copy number; a sheet
           that jams is void (staff stamp it 無効 and destroy it) and the others still print.
        8. Keep fee x printed copies; give back the rest (the voided copies' fee included) as change.
        9. Report the completion via HQ (best effort: the paper is out; an unacknowledged report is marked in
           the local log for the operator to resend), and log it locally without content.
        """
        self._require_card_out()
        await self._enter(Step.PAID)
        request, answer, document = _held(self._request), _held(self._answer), _held(self._document)
        printed: list[Path] = []
        voided: list[int] = []
        for copy in range(1, request.copies + 1):  # 7
            try:
                printed.append(
                    self._kiosk.printer.print_copy(document, transaction_id=request.transaction_id, copy=copy)
                )
            except (PaperJamError, OSError) as exc:
                _log.warning("tx=%s copy %d voided (%s)", request.transaction_id, copy, type(exc).__name__)
                voided.append(copy)
        charged = answer.fee_yen * len(printed)  # 8
        change = self._coins.settle(charged)
        outcome = Outcome.PRINTED if printed else Outcome.JAM_VOIDED
        reason = "paper_jam" if voided else ""
        report = CompletionReport(
            transaction_id=request.transaction_id,
            outcome=outcome,
            copies_printed=len(printed),
            copies_voided=len(voided),
            reason=reason,
        )
        reported = await self._report(report)  # 9
        self._record(report, amount=charged, reported=reported)
        self._printed = tuple(printed)
        if printed:
            self._step = Step.PRINTED
        else:
            self._forget()
            self._step = Step.DONE
        return PrintReceipt(
            transaction_id=request.transaction_id,
            outcome=outcome,
            printed=tuple(printed),
            voided=tuple(voided),
            charged_yen=charged,
            change=change,
            refunded_for_voided_yen=answer.fee_yen * len(voided),
            reported=reported,
        )

    async def take_certificate(self, hand_to: Path | None = None) -> tuple[Path, ...]:
        """The resident takes the paper and presses stop: the reminder stops and the kiosk erases the document.

        10. Erase the copies from the spool (HAND_TO: move them there instead, the resident's side of the
            tray) and drop the document and the transaction key from memory. Python cannot wipe memory; every
            reference the kiosk held is dropped so nothing of it is reachable from the next transaction.
        """
        # No idle timeout here: the paper is out and paid for; the reminder sounds until the resident stops it.
        await self._enter(Step.PRINTED, timed=False)
        request = _held(self._request)
        taken: list[Path] = []
        if hand_to is not None:
            hand_to.mkdir(parents=True, exist_ok=True)
            for path in self._printed:
                taken.append(Path(shutil.move(path, hand_to / path.name)))
        self._kiosk.printer.discard(request.transaction_id)
        self._forget()
        self._step = Step.DONE
        return tuple(taken)
