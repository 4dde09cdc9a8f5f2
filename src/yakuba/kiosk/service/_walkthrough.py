"""One whole transaction at a kiosk, as a resident with exact change would go through it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from yakuba.kiosk.service._coins import coins_for
from yakuba.kiosk.service._ports import KioskCardReader
from yakuba.kiosk.service._session import Kiosk
from yakuba.kiosk.service._values import CardStatus, FeeQuote, PrintReceipt, Step
from yakuba.wire.messages import Basis

__all__ = ["Choice", "run_transaction"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Choice:
    """What the resident picks on the screen."""

    basis: Basis | str
    city: str
    kind: str
    options: dict[str, bool | int | str | list[int]]
    copies: int = 1


async def run_transaction(
    kiosk: Kiosk,
    *,
    reader: KioskCardReader,
    choice: Choice,
    pin: str,
    on_card: Callable[[CardStatus], None] | None = None,
    on_quote: Callable[[FeeQuote], None] | None = None,
    take_to: Path | None = None,
) -> tuple[PrintReceipt, tuple[Path, ...]]:
    """Start, insert the card, choose, enter the PIN, take the card out, get the verified certificate, pay the
    exact fee, print, and (with TAKE_TO) take the copies into that folder, which ends the reminder and erases
    them from the kiosk; without it they wait in the spool. Returns the receipt and the taken copies.

    Any refusal is raised after the session is cancelled: the card is out, nothing is kept or charged.
    ON_CARD and ON_QUOTE let a screen or a CLI show the card status and the fee.
    """
    session = kiosk.new_session()
    try:
        await session.start()
        status = await session.insert_card(reader)
        if on_card is not None:
            on_card(status)
        await session.choose_basis(choice.basis, choice.city)
        await session.choose(choice.kind, choice.options, choice.copies)
        await session.enter_pin(pin)
        await session.remove_card()
        quote = await session.request_issuance()
        if on_quote is not None:
            on_quote(quote)
        await session.confirm_fee()
        if quote.total_yen:
            await session.pay(*coins_for(quote.total_yen))
        receipt = await session.print()
        taken = await session.take_certificate(hand_to=take_to) if take_to is not None and receipt.printed else ()
        return receipt, taken
    finally:
        if not session.finished and session.step is not Step.PRINTED:
            if session.card_inserted:
                await session.remove_card()
            if not session.finished:
                await session.cancel()
