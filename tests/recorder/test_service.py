"""Pure rules: fleet, media ledger, retention (with Hypothesis), viewing."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yakuba.recorder.errors import CardPlaceError, RetentionLockedError, ViewRefusedError
from yakuba.recorder.service import (
    FITTED_VEHICLES,
    FLEET_SIZE,
    MINIMUM_RETENTION,
    CardEventKind,
    CardState,
    Hold,
    HoldKind,
    PlaceKind,
    RetentionPolicy,
    SegmentTimes,
    Staff,
    StaffRole,
    apply_card_event,
    card_alerts,
    check_view_allowed,
    erase_at,
    extend_retain_until,
    is_erasable,
    sample_fleet,
    stock_take_discrepancies,
)

T0 = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)


def test_sample_fleet_has_29_trucks_15_fitted_and_every_role() -> None:
    fleet = sample_fleet()
    assert len(fleet.vehicles) == FLEET_SIZE == 29
    assert len(fleet.recorders) == FITTED_VEHICLES == 15
    assert {s.role for s in fleet.staff} == set(StaffRole)
    assert sample_fleet(seed=8) == fleet


def _card(place: PlaceKind, ref: str | None = None, due: dt.datetime | None = None) -> CardState:
    return CardState(card_id="SD-1", capacity_bytes=1, place=place, place_ref=ref, since=T0, due_back=due)


def test_hand_over_needs_a_counter_signature_from_another_person() -> None:
    state = _card(PlaceKind.SAFE)
    for counter in (None, "rec01"):
        with pytest.raises(CardPlaceError):
            apply_card_event(
                state, kind=CardEventKind.CHECKED_OUT, card_id="SD-1", at=T0, staff_id="rec01", counter_staff_id=counter
            )
    lent = apply_card_event(
        state, kind=CardEventKind.CHECKED_OUT, card_id="SD-1", at=T0, staff_id="rec01", counter_staff_id="sup01"
    )
    assert (lent.place, lent.place_ref) == (PlaceKind.LENT, "sup01")


def test_a_destroyed_card_takes_no_further_event() -> None:
    with pytest.raises(CardPlaceError):
        apply_card_event(
            _card(PlaceKind.DESTROYED),
            kind=CardEventKind.INSERTED,
            card_id="SD-1",
            at=T0,
            staff_id="rec01",
            counter_staff_id=None,
            place_ref="X",
        )


def test_stock_take_finds_missing_misplaced_and_unregistered_cards() -> None:
    cards = [
        CardState(card_id="A", capacity_bytes=1, place=PlaceKind.SAFE, place_ref=None, since=T0),
        CardState(card_id="B", capacity_bytes=1, place=PlaceKind.SAFE, place_ref=None, since=T0),
        CardState(card_id="C", capacity_bytes=1, place=PlaceKind.RECORDER, place_ref="DR1", since=T0),
    ]
    found = {(d.card_id, d.problem) for d in stock_take_discrepancies(cards, scanned=["A", "C", "Z"])}
    assert found == {("B", "missing"), ("C", "misplaced"), ("Z", "unregistered")}


def test_alerts_for_unknown_place_and_overdue_loans() -> None:
    cards = [
        _card(PlaceKind.UNKNOWN),
        CardState(card_id="L", capacity_bytes=1, place=PlaceKind.LENT, place_ref="sup01", since=T0, due_back=T0),
    ]
    assert {a.problem for a in card_alerts(cards, now=T0 + dt.timedelta(days=1))} == {"no_known_place", "overdue"}


def test_retain_until_can_only_grow() -> None:
    assert extend_retain_until(T0, T0 + dt.timedelta(days=1)) == T0 + dt.timedelta(days=1)
    with pytest.raises(RetentionLockedError):
        extend_retain_until(T0, T0 - dt.timedelta(seconds=1))


hours = st.integers(min_value=0, max_value=24 * 30)


@settings(deadline=None)  # no timing in tests: on a loaded 2-core machine one example can take 300 ms
@given(
    max_hours=st.integers(min_value=4, max_value=24 * 14),
    lock_extra=hours,
    now_offset=hours,
    holds=st.lists(st.tuples(st.integers(-48, 48), st.integers(1, 48), st.booleans(), st.booleans()), max_size=4),
)
def test_retention_rules_hold_for_any_policy_clock_and_holds(
    max_hours: int, lock_extra: int, now_offset: int, holds: list[tuple[int, int, bool, bool]]
) -> None:
    end = T0 + dt.timedelta(minutes=2)
    policy = RetentionPolicy(maximum={"normal": dt.timedelta(hours=max_hours)})
    retain_until = end + MINIMUM_RETENTION + dt.timedelta(hours=lock_extra)
    seg = SegmentTimes(
        vehicle_id="T01",
        start=T0,
        end=end,
        retain_until=retain_until,
        erase_at=erase_at(end=end, klass="normal", policy=policy, retain_until=retain_until),
    )
    now = end + dt.timedelta(hours=now_offset)
    hold_values = [
        Hold(
            hold_id=i,
            kind=HoldKind.INCIDENT,
            vehicle_id="T01" if same else "T02",
            window_start=T0 + dt.timedelta(hours=off),
            window_end=T0 + dt.timedelta(hours=off + span),
            released_at=T0 if released else None,
        )
        for i, (off, span, same, released) in enumerate(holds)
    ]
    held = any(h.covers(seg, now=now) for h in hold_values)
    erasable = is_erasable(seg, hold_values, now=now)
    if held or now < end + MINIMUM_RETENTION or now < retain_until:
        assert not erasable
    if not held and now >= max(end + dt.timedelta(hours=max_hours), retain_until):
        assert erasable


def test_a_policy_below_the_minimum_is_refused() -> None:
    with pytest.raises(Exception, match="minimum"):
        RetentionPolicy(maximum={"normal": dt.timedelta(hours=1)})


def test_drivers_are_refused_footage() -> None:
    seg = SegmentTimes(vehicle_id="T01", start=T0, end=T0 + dt.timedelta(minutes=1), retain_until=T0, erase_at=T0)
    hold = Hold(
        hold_id=1, kind=HoldKind.INCIDENT, vehicle_id="T01", window_start=T0, window_end=T0 + dt.timedelta(hours=1)
    )
    with pytest.raises(ViewRefusedError):
        check_view_allowed(
            staff=Staff(staff_id="drv01", role=StaffRole.DRIVER),
            segment=seg,
            basis=hold,
            purpose="accident review",
            now=T0,
        )
    check_view_allowed(
        staff=Staff(staff_id="sup01", role=StaffRole.SUPERVISOR),
        segment=seg,
        basis=hold,
        purpose="accident review",
        now=T0,
    )
