"""The values a kiosk session shows and returns: its step, the card status, the fee, the payment, the receipt."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

from yakuba.wire.messages import Outcome

__all__ = ["CardStatus", "FeeQuote", "Payment", "PrintReceipt", "Step"]


class Step(enum.StrEnum):
    """Where a session stands; each step method names the steps it may be called at."""

    IDLE = "idle"
    SERVICE = "service"
    """行政サービス chosen: waiting for the card."""
    CARD = "card"
    """Card inserted: choose 住所地 or 本籍地."""
    BASIS = "basis"
    """Basis and city chosen: choose the certificate."""
    CHOSEN = "chosen"
    """Certificate chosen: enter the PIN."""
    SIGNED = "signed"
    """PIN verified and request signed: remove the card."""
    CARD_REMOVED = "card_removed"
    """Ready to request the certificate."""
    VERIFIED = "verified"
    """Certificate received, opened and verified: confirm the fee."""
    FEE_CONFIRMED = "fee_confirmed"
    """Paying."""
    PAID = "paid"
    """Paid in full (held in escrow): print."""
    PRINTED = "printed"
    """Printed: the reminder sounds until the certificate is taken."""
    DONE = "done"
    ABORTED = "aborted"
    """Cancelled or refused: nothing charged."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CardStatus:
    """What the screen shows once the card is read."""

    tries_left: int


@dataclass(frozen=True, slots=True, kw_only=True)
class FeeQuote:
    """The fee screen: the verified certificate's kind, serial and pages, and what it costs."""

    transaction_id: str
    kind: str
    copies: int
    fee_per_copy: int
    total_yen: int
    document_serial: str
    pages: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Payment:
    """The payment screen after some coins: how much is in, how much is still due, what was handed back."""

    inserted: int
    due: int
    remaining: int
    returned: tuple[int, ...] = ()
    """Coins offered after the fee was reached, given straight back."""

    @property
    def complete(self) -> bool:
        return self.remaining == 0


@dataclass(frozen=True, slots=True, kw_only=True)
class PrintReceipt:
    """What came out of the printer and the coin box."""

    transaction_id: str
    outcome: Outcome
    printed: tuple[Path, ...]
    voided: tuple[int, ...]
    charged_yen: int
    change: tuple[int, ...]
    refunded_for_voided_yen: int
    reported: bool
