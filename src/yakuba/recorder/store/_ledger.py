"""Persistence of the media ledger: each card's current state and its append-only event history."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, RowMapping, insert, select, update

from yakuba.recorder.service import CardEventKind, CardState, PlaceKind
from yakuba.recorder.store._schema import card_events, cards

__all__ = ["CardEventRecord", "fetch_card", "fetch_card_events", "fetch_cards", "insert_card_event", "save_card"]


@dataclass(frozen=True, slots=True, kw_only=True)
class CardEventRecord:
    card_id: str
    kind: CardEventKind
    at: dt.datetime
    staff_id: str
    counter_staff_id: str | None
    reason: str
    place: PlaceKind
    place_ref: str | None


def _card(row: RowMapping) -> CardState:
    return CardState(
        card_id=row["card_id"],
        capacity_bytes=row["capacity_bytes"],
        place=PlaceKind(row["place"]),
        place_ref=row["place_ref"],
        since=row["since"],
        due_back=row["due_back"],
    )


def fetch_card(conn: Connection, card_id: str) -> CardState | None:
    row = conn.execute(select(cards).where(cards.c.card_id == card_id)).mappings().first()
    return None if row is None else _card(row)


def fetch_cards(conn: Connection) -> list[CardState]:
    return [_card(r) for r in conn.execute(select(cards).order_by(cards.c.card_id)).mappings()]


def save_card(conn: Connection, state: CardState, *, new: bool) -> None:
    values = {
        "capacity_bytes": state.capacity_bytes,
        "place": state.place.value,
        "place_ref": state.place_ref,
        "since": state.since,
        "due_back": state.due_back,
    }
    if new:
        conn.execute(insert(cards).values(card_id=state.card_id, **values))
    else:
        conn.execute(update(cards).where(cards.c.card_id == state.card_id).values(**values))


def insert_card_event(conn: Connection, event: CardEventRecord) -> None:
    conn.execute(
        insert(card_events).values(
            card_id=event.card_id,
            kind=event.kind.value,
            at=event.at,
            staff_id=event.staff_id,
            counter_staff_id=event.counter_staff_id,
            reason=event.reason,
            place=event.place.value,
            place_ref=event.place_ref,
        )
    )


def fetch_card_events(conn: Connection, card_id: str) -> list[CardEventRecord]:
    rows = conn.execute(
        select(card_events).where(card_events.c.card_id == card_id).order_by(card_events.c.id)
    ).mappings()
    return [
        CardEventRecord(
            card_id=r["card_id"],
            kind=CardEventKind(r["kind"]),
            at=r["at"],
            staff_id=r["staff_id"],
            counter_staff_id=r["counter_staff_id"],
            reason=r["reason"],
            place=PlaceKind(r["place"]),
            place_ref=r["place_ref"],
        )
        for r in rows
    ]
