"""The media ledger in the database: history, counter-signatures, stock-take discrepancies, alerts."""

from __future__ import annotations

import datetime as dt

import pytest

from yakuba.clock import FixedClock
from yakuba.recorder import CardPlaceError, Recorder
from yakuba.recorder.service import CardEventKind, PlaceKind


def test_stock_take_reports_what_the_safe_lacks_and_holds_extra(recorder: Recorder, clock: FixedClock) -> None:
    spares = sorted(c.card_id for c in recorder.cards() if c.place is PlaceKind.SAFE)
    assert len(spares) == 7
    assert len(recorder.cards()) == 22
    found = recorder.stock_take(staff_id="rec01", scanned=[*spares[1:], "SD-T01-A", "SD-ROGUE"])
    assert {(d.card_id, d.problem) for d in found} == {
        (spares[0], "missing"),
        ("SD-T01-A", "misplaced"),
        ("SD-ROGUE", "unregistered"),
    }


def test_lending_needs_the_receiver_and_becomes_overdue(recorder: Recorder, clock: FixedClock) -> None:
    with pytest.raises(CardPlaceError):
        recorder.record_card_event("SD-SPARE-01", CardEventKind.CHECKED_OUT, staff_id="rec01", reason="copy for police")
    state = recorder.record_card_event(
        "SD-SPARE-01",
        CardEventKind.CHECKED_OUT,
        staff_id="rec01",
        counter_staff_id="sup02",
        reason="copy for police",
        due_back=clock.now() + dt.timedelta(days=3),
    )
    assert (state.place, state.place_ref) == (PlaceKind.LENT, "sup02")
    assert recorder.card_alerts() == []
    clock.advance(dt.timedelta(days=4))
    assert [(a.card_id, a.problem) for a in recorder.card_alerts()] == [("SD-SPARE-01", "overdue")]
    recorder.record_card_event("SD-SPARE-02", CardEventKind.REPORTED_MISSING, staff_id="rec01", reason="not in safe")
    assert ("SD-SPARE-02", "no_known_place") in [(a.card_id, a.problem) for a in recorder.card_alerts()]
