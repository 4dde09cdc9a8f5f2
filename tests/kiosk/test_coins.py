"""The coin box: what it takes, the change it gives, the refund on cancel."""

from __future__ import annotations

import pytest

from yakuba.kiosk.errors import CoinRejectedError
from yakuba.kiosk.service import CoinBox, coins_for


@pytest.mark.parametrize("coin", [1, 5, 2000, 5000, 10000, 0, -10, True])
def test_only_10_50_100_500_coins_and_1000_notes_are_taken(coin: int) -> None:
    box = CoinBox()
    with pytest.raises(CoinRejectedError):
        box.insert(coin)
    assert box.inserted == 0


def test_settle_keeps_the_charge_and_gives_change_in_coins() -> None:
    box = CoinBox()
    for coin in (1000, 100, 50):
        box.insert(coin)
    assert box.inserted == 1150
    assert box.settle(400) == (500, 100, 100, 50)
    assert box.inserted == 0


def test_refund_returns_exactly_what_was_put_in() -> None:
    box = CoinBox()
    for coin in (1000, 10, 10, 500):
        box.insert(coin)
    assert box.refund_all() == (1000, 10, 10, 500)
    assert box.inserted == 0
    assert box.refund_all() == ()


def test_cannot_charge_more_than_in_escrow() -> None:
    box = CoinBox()
    box.insert(100)
    with pytest.raises(ValueError, match="more than"):
        box.settle(200)
    assert box.inserted == 100


def test_exact_payment_uses_the_fewest_pieces() -> None:
    assert coins_for(1750) == (1000, 500, 100, 100, 50)
    assert coins_for(0) == ()
    with pytest.raises(ValueError, match="multiple"):
        coins_for(205)
