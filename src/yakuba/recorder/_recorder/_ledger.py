"""The recorder's fleet and media ledger: install the fleet, record card events, stock-takes and alerts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Connection

from yakuba.errors import ValidationError
from yakuba.recorder._recorder._base import RecorderBase
from yakuba.recorder.service import (
    CardEventKind,
    CardState,
    Discrepancy,
    Fleet,
    PlaceKind,
    apply_card_event,
    card_alerts,
    stock_take_discrepancies,
)
from yakuba.recorder.store import (
    CardEventRecord,
    fetch_card,
    fetch_cards,
    fetch_staff,
    insert_card_event,
    insert_fleet,
    save_card,
)

__all__ = ["LedgerSteps"]


class LedgerSteps(RecorderBase):
    """Load the fleet and keep the media ledger of its cards, each event audited."""

    # -- fleet and ledger ------------------------------------------------------------------------------

    def install_fleet(self, fleet: Fleet, *, staff_id: str, counter_staff_id: str) -> None:
        """Load a fleet and register its cards: one inserted in each fitted recorder, spares in the safe."""
        serial_of = {r.vehicle_id: r.serial for r in fleet.recorders}

        def work(conn: Connection) -> None:
            insert_fleet(conn, fleet)
            self.audit(
                conn,
                "fleet.installed",
                staff_id=staff_id,
                subject=None,
                fields={
                    "vehicles": len(fleet.vehicles),
                    "recorders": len(fleet.recorders),
                    "staff_count": len(fleet.staff),
                },
            )
            for card_id, capacity in fleet.cards:
                self._card_event(
                    conn,
                    card_id,
                    CardEventKind.REGISTERED,
                    staff_id=staff_id,
                    reason="sample fleet",
                    capacity_bytes=capacity,
                )
                vehicle = card_id.split("-")[1]
                if vehicle in serial_of:
                    self._card_event(
                        conn,
                        card_id,
                        CardEventKind.INSERTED,
                        staff_id=staff_id,
                        reason="fitted",
                        place_ref=serial_of[vehicle],
                        counter_staff_id=counter_staff_id,
                    )

        self._tx(work, "installing the fleet")

    def _card_event(
        self,
        conn: Connection,
        card_id: str,
        kind: CardEventKind,
        *,
        staff_id: str,
        reason: str,
        counter_staff_id: str | None = None,
        place_ref: str | None = None,
        capacity_bytes: int = 0,
        due_back: dt.datetime | None = None,
    ) -> CardState:
        fetch_staff(conn, staff_id)
        if counter_staff_id is not None:
            fetch_staff(conn, counter_staff_id)
        if not reason.strip():
            raise ValidationError("every ledger event says why")
        before = fetch_card(conn, card_id)
        now = self.clock.now()
        after = apply_card_event(
            before,
            kind=kind,
            card_id=card_id,
            at=now,
            staff_id=staff_id,
            counter_staff_id=counter_staff_id,
            place_ref=place_ref,
            capacity_bytes=capacity_bytes,
            due_back=due_back,
        )
        save_card(conn, after, new=before is None)
        insert_card_event(
            conn,
            CardEventRecord(
                card_id=card_id,
                kind=kind,
                at=now,
                staff_id=staff_id,
                counter_staff_id=counter_staff_id,
                reason=reason,
                place=after.place,
                place_ref=after.place_ref,
            ),
        )
        self.audit(
            conn,
            f"media.{kind.value}",
            staff_id=staff_id,
            subject=self.subject("card", card_id),
            fields={"place": after.place.value, "countersigned": counter_staff_id is not None},
        )
        return after

    def record_card_event(
        self,
        card_id: str,
        kind: CardEventKind,
        *,
        staff_id: str,
        reason: str,
        counter_staff_id: str | None = None,
        place_ref: str | None = None,
        capacity_bytes: int = 0,
        due_back: dt.datetime | None = None,
    ) -> CardState:
        """Append one event to the media ledger (and the audit log) and return the card's new state."""
        return self._tx(
            lambda conn: self._card_event(
                conn,
                card_id,
                kind,
                staff_id=staff_id,
                reason=reason,
                counter_staff_id=counter_staff_id,
                place_ref=place_ref,
                capacity_bytes=capacity_bytes,
                due_back=due_back,
            ),
            "recording a card event",
        )

    def cards(self) -> list[CardState]:
        with self.engine.connect() as conn:
            return fetch_cards(conn)

    def stock_take(
        self, *, staff_id: str, scanned: Sequence[str], location: PlaceKind = PlaceKind.SAFE
    ) -> list[Discrepancy]:
        """Record a stock-take of the cards found at LOCATION and return the discrepancies with the ledger."""

        def work(conn: Connection) -> list[Discrepancy]:
            cards = fetch_cards(conn)
            found = stock_take_discrepancies(cards, scanned=scanned, location=location)
            known = {c.card_id for c in cards if c.place is not PlaceKind.DESTROYED}
            for card_id in sorted(set(scanned) & known):
                self._card_event(conn, card_id, CardEventKind.STOCK_TAKEN, staff_id=staff_id, reason="stock-take")
            self.audit(
                conn,
                "media.stock_take",
                staff_id=staff_id,
                subject=None,
                fields={"location": location.value, "scanned": len(set(scanned)), "discrepancies": len(found)},
            )
            return found

        return self._tx(work, "recording a stock-take")

    def card_alerts(self) -> list[Discrepancy]:
        return card_alerts(self.cards(), now=self.clock.now())
