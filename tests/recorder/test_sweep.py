"""The retention sweep over the real catalogue: the week rule, holds, the half-store guard, Hypothesis."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.recorder.conftest import CARD_START, audit_entries, open_recorder

from yakuba.clock import FixedClock
from yakuba.recorder import HoldReleaseError, Recorder, RetentionLockedError, SweepRefusedError, ingest_card
from yakuba.recorder.service import MINIMUM_RETENTION, HoldKind, sample_fleet
from yakuba.recorder.store import SegmentRecord, insert_segment, start_ingest

WEEK = dt.timedelta(days=7)


def test_footage_stays_a_week_then_goes_and_a_hold_keeps_it(
    recorder: Recorder, card_dir: Path, clock: FixedClock, tmp_path: Path
) -> None:
    ingest_card(recorder, card_dir, vehicle_id="T01", staff_id="rec01")
    hold = recorder.place_hold(
        staff_id="sup01",
        kind=HoldKind.INCIDENT,
        vehicle_id="T01",
        window_start=CARD_START,
        window_end=CARD_START + dt.timedelta(seconds=3),
        description="collision at depot gate",
    )
    clock.advance(WEEK - dt.timedelta(hours=1))
    assert recorder.sweep().erased == 0
    clock.advance(dt.timedelta(days=1))
    report = recorder.sweep()  # two segments lie in the incident window, two do not
    assert (report.erased, report.kept_by_hold) == (2, 2)
    with pytest.raises(HoldReleaseError):
        recorder.release_hold(staff_id="sup01", hold_id=hold, reason="closed")
    recorder.release_hold(staff_id="chief01", hold_id=hold, reason="incident closed, no claim")
    with pytest.raises(SweepRefusedError):  # now all of the (small) store is due: the guard stops it
        recorder.sweep()
    events = [e for e in audit_entries(recorder, tmp_path / "keys") if e.event_type == "footage.erased"]
    assert len(events) == 2
    assert all(len(str(e.fields["sha256"])) == 64 and str(e.fields["rule"]).startswith("maximum:") for e in events)
    left = [p for p in (recorder.footage.root / "objects").rglob("*") if p.is_file() and p.suffix == ""]
    assert len(left) == 2 * 2  # the two held videos and their GPS tracks


def test_the_sweep_refuses_to_erase_more_than_half_the_store(
    recorder: Recorder, card_dir: Path, clock: FixedClock
) -> None:
    ingest_card(recorder, card_dir, vehicle_id="T01", staff_id="rec01")
    clock.advance(dt.timedelta(days=30))
    with pytest.raises(SweepRefusedError) as refused:
        recorder.sweep()
    assert recorder.segment(1).sha256  # still there
    due = int(refused.value.text_en.split("would erase ")[1].split()[0])
    with pytest.raises(SweepRefusedError):  # only the section chief may confirm
        recorder.sweep(confirmed_by="sup01", confirm_count=due)
    with pytest.raises(SweepRefusedError):  # a wrong count is no confirmation
        recorder.sweep(confirmed_by="chief01", confirm_count=due - 1)
    assert recorder.segment(1).sha256
    report = recorder.sweep(confirmed_by="chief01", confirm_count=due)
    assert report.erased == due


def test_retention_can_be_extended_never_shortened(recorder: Recorder, card_dir: Path) -> None:
    ingest_card(recorder, card_dir, vehicle_id="T01", staff_id="rec01")
    seg = recorder.segment(1)
    recorder.extend_retention(staff_id="rec01", segment_id=1, until=seg.retain_until + dt.timedelta(days=30))
    assert recorder.segment(1).erase_at == seg.retain_until + dt.timedelta(days=30)
    with pytest.raises(RetentionLockedError):
        recorder.extend_retention(staff_id="rec01", segment_id=1, until=seg.retain_until)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    ages_h=st.lists(st.integers(min_value=0, max_value=24 * 10), min_size=1, max_size=12),
    max_h=st.integers(min_value=4, max_value=24 * 8),
    held=st.sets(st.integers(min_value=0, max_value=11)),
)
def test_sweep_never_erases_held_or_young_footage_and_erases_the_rest(
    tmp_path_factory: pytest.TempPathFactory, ages_h: list[int], max_h: int, held: set[int]
) -> None:
    now = CARD_START + dt.timedelta(days=30)
    clock = FixedClock(now)
    rec = open_recorder(tmp_path_factory.mktemp("prop"), clock)
    rec.install_fleet(sample_fleet(), staff_id="rec01", counter_staff_id="sup01")
    vehicles = [f"T{n + 1:02d}" for n in range(len(ages_h))]
    with rec.engine.begin() as conn:
        ingest_id = start_ingest(conn, vehicle_id="T01", card_id=None, staff_id="rec01", now=now)
        for n, age in enumerate(ages_h):
            end = now - dt.timedelta(hours=age)
            until = end + MINIMUM_RETENTION
            insert_segment(
                conn,
                ingest_id=ingest_id,
                record=SegmentRecord(
                    segment_id=0,
                    sha256=f"{n:064x}",
                    vehicle_id=vehicles[n],
                    klass="normal",
                    start=end - dt.timedelta(minutes=1),
                    end=end,
                    size_bytes=1,
                    source_name="x.mp4",
                    gps_sha256=None,
                    retain_until=until,
                    erase_at=max(end + dt.timedelta(hours=max_h), until),
                ),
            )
    for n in held & set(range(len(ages_h))):
        end = now - dt.timedelta(hours=ages_h[n])
        rec.place_hold(
            staff_id="rec01",
            kind=HoldKind.POLICE_INQUIRY,
            vehicle_id=vehicles[n],
            window_start=end - dt.timedelta(minutes=2),
            window_end=end,
            description="inquiry",
        )
    due = {
        n
        for n, age in enumerate(ages_h)
        if n not in held and dt.timedelta(hours=age) >= max(dt.timedelta(hours=max_h), MINIMUM_RETENTION)
    }
    try:
        rec.sweep()
    except SweepRefusedError:
        assert len(due) > len(ages_h) / 2
        return
    with rec.engine.connect() as conn:
        from sqlalchemy import select

        from yakuba.recorder.store._schema import segments

        left = {int(sha, 16) for sha in conn.execute(select(segments.c.sha256)).scalars()}
    assert left == set(range(len(ages_h))) - due
