"""Life events as operations on the registry: typed values in and out, no ORM, card revocation through a seam."""

from __future__ import annotations

from yakuba.registry.service._base import MARRIAGE_MIN_AGE, SEAL_MIN_AGE, CityIdentity
from yakuba.registry.service._family import child_relationship
from yakuba.registry.service._residence import HEAD
from yakuba.registry.service._seals_cards import SealCardEvents
from yakuba.registry.service._tax_batch import run_tax_batch

__all__ = [
    "HEAD",
    "MARRIAGE_MIN_AGE",
    "SEAL_MIN_AGE",
    "CityIdentity",
    "LifeEvents",
    "child_relationship",
    "run_tax_batch",
]


class LifeEvents(SealCardEvents):
    """Every life event the city's staff record: each one a single transaction with its history rows.

    Build it with `LifeEvents(transactions=db.transaction, revoker=..., clock=..., city=...)`; an address or
    name change, a move-out or a death revokes the person's card certificate through the injected revoker.
    """
