"""The scrub after ingest: damage in the middle of a segment passes ingest's structural check, the full decode
flags it, and its retention is what it would have been (never erased early, a copy kept aside)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import av
import pytest
from sqlalchemy import select
from tests.recorder.conftest import CARD_START, audit_entries

from yakuba.clock import FixedClock
from yakuba.recorder import Recorder, ingest_card, scrub, scrub_alerts
from yakuba.recorder.media import CardSpec, make_card
from yakuba.recorder.store._schema import segments

SEGMENTS = 3
"""Three 6-second segments at 5 fps with a keyframe every 2 s: three GOPs each, so one has a middle GOP."""


def _corrupt_middle_gop(path: Path) -> None:
    """Scramble the picture data of the middle GOP's keyframe, leaving every NAL unit's length intact (a bit
    rot in the flash cell, not a truncation)."""
    with av.open(str(path)) as container:
        packets = [(p.pos, p.size, p.is_keyframe) for p in container.demux(video=0) if p.size]
    keyframes = [i for i, (_pos, _size, key) in enumerate(packets) if key]
    assert len(keyframes) >= 3
    pos, size, _key = packets[keyframes[1]]
    data = bytearray(path.read_bytes())
    cursor, last = pos, (pos, 0)
    while cursor < pos + size:  # walk the length-prefixed NAL units to the last one: the picture's slice
        length = int.from_bytes(data[cursor : cursor + 4], "big")
        last = (cursor + 4, length)
        cursor += 4 + length
    start, length = last
    for i in range(start + 4, start + length):
        data[i] ^= 0xA5
    path.write_bytes(bytes(data))


@pytest.fixture(scope="module")
def damaged_card(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp("damaged")
    spec = CardSpec(
        vehicle_id="T01",
        start=CARD_START,
        segments=SEGMENTS,
        segment_seconds=6,
        corrupt=0,
        misnamed=0,
        event_every=0,
        seed=5,
    )
    files = make_card(path, spec)
    _corrupt_middle_gop(files[1])
    return path, str(files[1].relative_to(path))


def _levels(rec: Recorder) -> dict[str, str]:
    with rec.engine.connect() as conn:
        rows = conn.execute(select(segments.c.source_name, segments.c.verified))
        return {name: level for name, level in rows}


def test_damage_in_the_middle_passes_ingest_and_the_scrub_flags_it(
    recorder: Recorder, damaged_card: tuple[Path, str], tmp_path: Path
) -> None:
    card, damaged = damaged_card
    report = ingest_card(recorder, card, vehicle_id="T01", staff_id="rec01")
    assert (report.stored, report.rejected) == (SEGMENTS, ())
    assert set(_levels(recorder).values()) == {"structure"}

    scrubbed = scrub(recorder)
    assert (scrubbed.examined, scrubbed.verified, scrubbed.failed, scrubbed.pending) == (SEGMENTS, SEGMENTS - 1, 1, 0)
    assert scrubbed.frames == (SEGMENTS - 1) * 6 * 5
    levels = _levels(recorder)
    assert levels.pop(damaged) == "failed"
    assert set(levels.values()) == {"full"}

    alerts = scrub_alerts(recorder)
    assert [(a.vehicle_id, a.problem) for a in alerts] == [("T01", "scrub_failed")]
    assert "decode" in alerts[0].detail
    aside = list((recorder.footage.root / "aside" / "scrub").iterdir())
    assert [p.name for p in aside] == [f"{alerts[0].segment_id}-{Path(damaged).name}"]
    events = [e.event_type for e in audit_entries(recorder, tmp_path / "keys")]
    assert events.count("footage.scrub_failed") == 1
    assert "scrub.finished" in events

    again = scrub(recorder)  # verified and failed segments are not decoded again
    assert (again.examined, again.pending) == (0, 0)


def test_a_flagged_segment_keeps_its_retention(
    recorder: Recorder, damaged_card: tuple[Path, str], clock: FixedClock
) -> None:
    card, damaged = damaged_card
    ingest_card(recorder, card, vehicle_id="T01", staff_id="rec01")
    scrub(recorder)
    with recorder.engine.connect() as conn:
        rows = {r.source_name: r for r in conn.execute(select(segments))}
    flagged = rows[damaged]
    assert flagged.verified == "failed"
    good = next(r for name, r in rows.items() if name != damaged)
    assert flagged.erase_at - flagged.end == good.erase_at - good.end  # the same rule as a good segment

    clock.set(flagged.erase_at - dt.timedelta(minutes=1))  # past the minimum, before the maximum
    assert recorder.sweep().erased == 0
    assert recorder.footage.exists(flagged.sha256)

    clock.set(max(r.erase_at for r in rows.values()) + dt.timedelta(minutes=1))
    erased = recorder.sweep(confirmed_by="chief01", confirm_count=SEGMENTS).erased
    assert erased == SEGMENTS  # erased on its day like the others, not kept forever in the store
    assert not recorder.footage.exists(flagged.sha256)
    assert len(list((recorder.footage.root / "aside" / "scrub").iterdir())) == 1  # the copy set aside stays


def test_scrub_passes_a_clean_card(recorder: Recorder, card_dir: Path) -> None:
    report = ingest_card(recorder, card_dir, vehicle_id="T01", staff_id="rec01")
    scrubbed = scrub(recorder, limit=2)
    assert (scrubbed.examined, scrubbed.verified, scrubbed.failed) == (2, 2, 0)
    assert scrubbed.pending == report.stored - 2
    rest = scrub(recorder)
    assert (rest.verified, rest.failed, rest.pending) == (report.stored - 2, 0, 0)
    assert scrub_alerts(recorder) == []


def test_a_segment_whose_file_vanished_is_flagged(recorder: Recorder, card_dir: Path) -> None:
    ingest_card(recorder, card_dir, vehicle_id="T01", staff_id="rec01")
    victim = recorder.segment(1)
    recorder.footage.erase(victim.sha256)  # lost outside the sweep: a disk fault, an operator's rm
    scrubbed = scrub(recorder)
    assert scrubbed.failed == 1
    assert [(a.segment_id, a.detail) for a in scrub_alerts(recorder)] == [(1, "the stored file is missing")]


def test_a_stored_file_changed_on_disk_is_flagged(recorder: Recorder, card_dir: Path) -> None:
    ingest_card(recorder, card_dir, vehicle_id="T01", staff_id="rec01")
    victim = recorder.footage.path_of(recorder.segment(2).sha256)
    victim.chmod(0o600)
    with victim.open("ab") as fh:  # still decodes: only the fixity check can tell
        fh.write(b"\0")
    scrubbed = scrub(recorder)
    assert scrubbed.failed == 1
    [alert] = scrub_alerts(recorder)
    assert (alert.segment_id, "SHA-256" in alert.detail) == (2, True)
