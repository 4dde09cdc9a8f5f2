"""The recording-media ledger (記録媒体管理台帳): where every SD card is, how it got there, and what is amiss."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from dataclasses import dataclass

from yakuba.recorder.errors import CardPlaceError

__all__ = [
    "MAX_LENT_DAYS",
    "CardEventKind",
    "CardState",
    "Discrepancy",
    "PlaceKind",
    "apply_card_event",
    "card_alerts",
    "stock_take_discrepancies",
]

MAX_LENT_DAYS = 14
"""Default time a card may stay checked out before it is overdue; a lent copy must have a defined return."""


class PlaceKind(enum.StrEnum):
    RECORDER = "recorder"  # ref: recorder serial
    SAFE = "safe"  # the office safe
    LENT = "lent"  # ref: staff id holding it
    DESTROYED = "destroyed"
    UNKNOWN = "unknown"


class CardEventKind(enum.StrEnum):
    REGISTERED = "registered"
    INSERTED = "inserted"
    REMOVED = "removed"
    CHECKED_OUT = "checked_out"
    CHECKED_IN = "checked_in"
    COPIED = "copied"
    WIPED = "wiped"
    DESTROYED = "destroyed"
    STOCK_TAKEN = "stock_taken"
    REPORTED_MISSING = "reported_missing"


HAND_OVERS = frozenset({CardEventKind.CHECKED_OUT, CardEventKind.CHECKED_IN})
"""Events where a card changes hands: the receiving person counter-signs."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CardState:
    card_id: str
    capacity_bytes: int
    place: PlaceKind
    place_ref: str | None
    since: dt.datetime
    due_back: dt.datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Discrepancy:
    card_id: str
    problem: str  # missing | unregistered | misplaced | destroyed_but_present
    ledger_place: str | None


def apply_card_event(
    state: CardState | None,
    *,
    kind: CardEventKind,
    card_id: str,
    at: dt.datetime,
    staff_id: str,
    counter_staff_id: str | None,
    place_ref: str | None = None,
    capacity_bytes: int = 0,
    due_back: dt.datetime | None = None,
) -> CardState:
    """The card's state after one ledger event; raises CardPlaceError when the event does not fit.

    1. Only `registered` may start a card, and only once (stops two cards under one id).
    2. A destroyed card takes no further event but none (stops a "destroyed" card reappearing silently).
    3. A hand-over names a receiving person other than the giver, who counter-signs.
    4. The place moves as the event says; the rest keep it.
    """
    if kind is CardEventKind.REGISTERED:  # step 1
        if state is not None:
            raise CardPlaceError(f"card {card_id} is already registered")
        return CardState(card_id=card_id, capacity_bytes=capacity_bytes, place=PlaceKind.SAFE, place_ref=None, since=at)
    if state is None:
        raise CardPlaceError(f"card {card_id} is not registered")
    if state.place is PlaceKind.DESTROYED:  # step 2
        raise CardPlaceError(f"card {card_id} was destroyed")
    if kind in HAND_OVERS and (counter_staff_id is None or counter_staff_id == staff_id):  # step 3
        raise CardPlaceError("a hand-over needs the counter-signature of the person receiving the card")
    place: PlaceKind = state.place  # step 4
    ref, due = state.place_ref, state.due_back
    if kind is CardEventKind.INSERTED:
        if state.place is PlaceKind.RECORDER:
            raise CardPlaceError(f"card {card_id} is already in a recorder")
        if not place_ref:
            raise CardPlaceError("inserting a card names the recorder")
        place, ref, due = PlaceKind.RECORDER, place_ref, None
    elif kind is CardEventKind.REMOVED:
        if state.place is not PlaceKind.RECORDER:
            raise CardPlaceError(f"card {card_id} is not in a recorder")
        place, ref, due = PlaceKind.SAFE, None, None
    elif kind is CardEventKind.CHECKED_OUT:
        if state.place is not PlaceKind.SAFE:
            raise CardPlaceError(f"card {card_id} is not in the safe")
        place, ref, due = PlaceKind.LENT, counter_staff_id, due_back or at + dt.timedelta(days=MAX_LENT_DAYS)
    elif kind is CardEventKind.CHECKED_IN:
        if state.place not in (PlaceKind.LENT, PlaceKind.UNKNOWN):
            raise CardPlaceError(f"card {card_id} is not checked out")
        place, ref, due = PlaceKind.SAFE, None, None
    elif kind is CardEventKind.DESTROYED:
        place, ref, due = PlaceKind.DESTROYED, None, None
    elif kind is CardEventKind.REPORTED_MISSING:
        place, ref, due = PlaceKind.UNKNOWN, None, None
    elif kind is CardEventKind.STOCK_TAKEN and state.place is PlaceKind.UNKNOWN:
        place, ref, due = PlaceKind.SAFE, None, None  # found in the safe during a stock-take
    moved = (place, ref) != (state.place, state.place_ref)
    return CardState(
        card_id=card_id,
        capacity_bytes=state.capacity_bytes,
        place=place,
        place_ref=ref,
        since=at if moved else state.since,
        due_back=due,
    )


def stock_take_discrepancies(
    cards: Iterable[CardState], *, scanned: Iterable[str], location: PlaceKind = PlaceKind.SAFE
) -> list[Discrepancy]:
    """Compare the cards found at LOCATION with what the ledger says should be there."""
    by_id = {c.card_id: c for c in cards}
    seen = set(scanned)
    found: list[Discrepancy] = []
    for card_id in sorted(seen):
        card = by_id.get(card_id)
        if card is None:
            found.append(Discrepancy(card_id=card_id, problem="unregistered", ledger_place=None))
        elif card.place is PlaceKind.DESTROYED:
            found.append(Discrepancy(card_id=card_id, problem="destroyed_but_present", ledger_place=card.place.value))
        elif card.place not in (location, PlaceKind.UNKNOWN):
            found.append(Discrepancy(card_id=card_id, problem="misplaced", ledger_place=_place_text(card)))
    for card in sorted(by_id.values(), key=lambda c: c.card_id):
        if card.place is location and card.card_id not in seen:
            found.append(Discrepancy(card_id=card.card_id, problem="missing", ledger_place=_place_text(card)))
    return found


def card_alerts(cards: Iterable[CardState], *, now: dt.datetime) -> list[Discrepancy]:
    """Cards with no known place, and cards lent past their return date."""
    alerts: list[Discrepancy] = []
    for card in sorted(cards, key=lambda c: c.card_id):
        if card.place is PlaceKind.UNKNOWN:
            alerts.append(Discrepancy(card_id=card.card_id, problem="no_known_place", ledger_place=None))
        elif card.place is PlaceKind.LENT and card.due_back is not None and card.due_back < now:
            alerts.append(Discrepancy(card_id=card.card_id, problem="overdue", ledger_place=_place_text(card)))
    return alerts


def _place_text(card: CardState) -> str:
    return f"{card.place.value}:{card.place_ref}" if card.place_ref else card.place.value
