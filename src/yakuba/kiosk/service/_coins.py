"""The coin box: takes coins and 1000-yen notes into escrow, keeps only what is charged, gives the rest back."""

from __future__ import annotations

from yakuba.kiosk.errors import CoinRejectedError

__all__ = ["ACCEPTED_DENOMINATIONS", "CHANGE_DENOMINATIONS", "CoinBox", "coins_for"]

ACCEPTED_DENOMINATIONS = frozenset({10, 50, 100, 500, 1000})
"""10, 50, 100 and 500 yen coins and 1000 yen notes, as the multi-copy machines take; 1 and 5 yen coins are
refused (no fee needs them) and larger notes too (the box keeps too little change for them)."""

CHANGE_DENOMINATIONS = (500, 100, 50, 10)
"""Change comes back in coins only; the box dispenses no notes (a note is only ever returned as itself)."""


def coins_for(amount: int, *, denominations: tuple[int, ...] = (1000, *CHANGE_DENOMINATIONS)) -> tuple[int, ...]:
    """AMOUNT in the fewest coins and notes (greedy is exact for yen); ValueError if it cannot be made."""
    if amount < 0:
        raise ValueError("a negative amount cannot be paid out")
    out: list[int] = []
    for value in denominations:
        count, amount = divmod(amount, value)
        out.extend([value] * count)
    if amount:
        raise ValueError("the amount is not a multiple of the smallest coin")
    return tuple(out)


class CoinBox:
    """Money in escrow for one transaction: nothing is kept until `settle`, and `refund_all` returns the very
    coins and notes put in (a cancelled transaction costs nothing)."""

    __slots__ = ("_escrow",)

    def __init__(self) -> None:
        self._escrow: list[int] = []

    @property
    def inserted(self) -> int:
        """Yen in escrow."""
        return sum(self._escrow)

    def insert(self, denomination: int) -> int:
        """Take one coin or note into escrow; returns the yen in escrow. CoinRejectedError hands it back."""
        if isinstance(denomination, bool) or denomination not in ACCEPTED_DENOMINATIONS:
            raise CoinRejectedError()
        self._escrow.append(denomination)
        return self.inserted

    def settle(self, charge: int) -> tuple[int, ...]:
        """Keep CHARGE yen and return the change in coins; the escrow is empty afterwards."""
        inserted = self.inserted
        if not 0 <= charge <= inserted:
            raise ValueError("cannot charge more than is in escrow")
        change = coins_for(inserted - charge, denominations=CHANGE_DENOMINATIONS)
        self._escrow.clear()
        return change

    def refund_all(self) -> tuple[int, ...]:
        """Return everything in escrow exactly as it was put in."""
        refunded = tuple(self._escrow)
        self._escrow.clear()
        return refunded
