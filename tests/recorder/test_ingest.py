"""Ingest of synthetic cards: container times, write-once store, dedupe, corrupt files, resume, disk full."""

from __future__ import annotations

import datetime as dt
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import av
import pytest
from sqlalchemy import func, select
from tests.recorder.conftest import CARD_START, GOOD_SEGMENTS, audit_entries, open_recorder

from yakuba.clock import FixedClock
from yakuba.recorder import DiskFullError, Recorder, ViewRefusedError, ingest_card
from yakuba.recorder._verify import check_segment
from yakuba.recorder.media import CardSpec, make_card
from yakuba.recorder.store._schema import segments


def _segments(rec: Recorder) -> list[tuple[str, str]]:
    with rec.engine.connect() as conn:
        return [(r.sha256, r.source_name) for r in conn.execute(select(segments.c.sha256, segments.c.source_name))]


def test_ingest_catalogues_every_good_segment_and_keeps_corrupt_files_aside(
    recorder: Recorder, card_dir: Path, tmp_path: Path
) -> None:
    report = ingest_card(recorder, card_dir, vehicle_id="T01", staff_id="rec01", card_id="SD-T01-A")
    assert (report.stored, report.duplicates, len(report.rejected)) == (GOOD_SEGMENTS, 0, 1)
    aside = list((recorder.footage.root / "aside").rglob("*.mp4"))
    assert [p.name for p in aside] == [Path(report.rejected[0]).name]
    first = min((recorder.segment(n) for n in range(1, GOOD_SEGMENTS + 1)), key=lambda s: s.start)
    assert first.start == CARD_START  # from the container, although the file's name says otherwise
    assert not first.source_name.endswith(CARD_START.strftime("%H%M%S") + "_NF.mp4")
    assert first.gps_sha256 is not None
    path = recorder.footage.path_of(first.sha256)
    assert not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    events = [e.event_type for e in audit_entries(recorder, tmp_path / "keys")]
    assert events.count("footage.ingested") == GOOD_SEGMENTS
    assert "footage.rejected" in events
    assert "media.copied" in events


def test_same_card_twice_stores_nothing_new(recorder: Recorder, card_dir: Path) -> None:
    ingest_card(recorder, card_dir, vehicle_id="T01", staff_id="rec01")
    again = ingest_card(recorder, card_dir, vehicle_id="T01", staff_id="rec01")
    assert (again.stored, again.duplicates) == (0, GOOD_SEGMENTS)
    assert len(_segments(recorder)) == GOOD_SEGMENTS
    objects = [p for p in (recorder.footage.root / "objects").rglob("*") if p.is_file()]
    assert len(objects) == GOOD_SEGMENTS * 2  # each video and its GPS track, once


def test_drivers_may_not_ingest(recorder: Recorder, card_dir: Path) -> None:
    with pytest.raises(ViewRefusedError):
        ingest_card(recorder, card_dir, vehicle_id="T01", staff_id="drv01")


def test_a_full_disk_stops_ingest_and_erases_nothing(tmp_path: Path, card_dir: Path, clock: FixedClock) -> None:
    from yakuba.recorder.service import sample_fleet

    rec = open_recorder(tmp_path, clock)
    rec.install_fleet(sample_fleet(), staff_id="rec01", counter_staff_id="sup01")
    ingest_card(rec, card_dir, vehicle_id="T01", staff_id="rec01")
    full = open_recorder(tmp_path, clock, free_space=lambda _p: 1024)
    with pytest.raises(DiskFullError):
        ingest_card(full, card_dir, vehicle_id="T02", staff_id="rec01")
    assert len(_segments(full)) == GOOD_SEGMENTS
    assert "ingest.disk_full" in [e.event_type for e in audit_entries(full, tmp_path / "keys")]


KILLER = textwrap.dedent(
    """
    import os, signal, sys, datetime as dt
    from pathlib import Path
    from yakuba.clock import FixedClock
    from yakuba.recorder import Recorder, ingest_card
    root, card, kill_after = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    rec = Recorder.open(database_url=f"sqlite:///{root / 'recorder.sqlite3'}", footage_root=root / "footage",
                        key_dir=root / "keys", origin="yakuba/test/audit/recorder",
                        clock=FixedClock(dt.datetime(2025, 3, 1, 0, 30, tzinfo=dt.UTC)), free_space=lambda _p: 10**15)
    def progress(files, _bytes):
        if files == kill_after:
            os.kill(os.getpid(), signal.SIGKILL)
    ingest_card(rec, card, vehicle_id="T01", staff_id="rec01", progress=progress)
    """
)


def test_ingest_killed_midway_resumes_without_losing_or_duplicating(
    recorder: Recorder, card_dir: Path, tmp_path: Path
) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    killed = subprocess.Popen([sys.executable, "-c", KILLER, str(tmp_path), str(card_dir), "2"], env=env)
    assert killed.wait() == -9
    assert 1 <= len(_segments(recorder)) < GOOD_SEGMENTS
    scratch = recorder.footage.root / "tmp"
    (scratch / f"{killed.pid}-planted").write_bytes(b"half a file")  # as a kill mid-copy leaves one
    (scratch / f"{os.getpid()}-live").write_bytes(b"another ingest, running")
    report = ingest_card(recorder, card_dir, vehicle_id="T01", staff_id="rec01")
    shas = [sha for sha, _ in _segments(recorder)]
    assert len(shas) == len(set(shas)) == GOOD_SEGMENTS
    assert report.stored + report.duplicates == GOOD_SEGMENTS
    for sha in shas:
        assert recorder.footage.exists(sha)
    assert [p.name for p in scratch.iterdir()] == [f"{os.getpid()}-live"]  # orphans dropped, a live one kept
    with recorder.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(segments)).scalar_one() == GOOD_SEGMENTS


def _faststart_copy(source: Path, dest: Path, *, gap_after: int | None = None) -> None:
    """Remux SOURCE with its index at the front, as many recorders write: a cut-off end then loses samples,
    not the index. GAP_AFTER: leave a 3-second hole in the timestamps after that many frames."""
    with av.open(str(source)) as src, av.open(str(dest), "w", format="mp4", options={"movflags": "faststart"}) as out:
        out.metadata["creation_time"] = src.metadata["creation_time"]
        video = src.streams.video[0]
        stream = out.add_stream_from_template(video)
        assert video.time_base is not None
        hole = int(3 / video.time_base)
        for n, packet in enumerate(src.demux(video)):
            if packet.dts is not None and packet.pts is not None:
                if gap_after is not None and n >= gap_after:
                    packet.dts, packet.pts = packet.dts + hole, packet.pts + hole
                packet.stream = stream
                out.mux(packet)


def test_truncated_and_overwritten_files_are_caught_at_ingest(recorder: Recorder, tmp_path: Path) -> None:
    card = tmp_path / "card"
    spec = CardSpec(vehicle_id="T01", start=CARD_START, segments=1, segment_seconds=6, corrupt=0, misnamed=0, seed=9)
    good = make_card(card, spec)[0]
    fast = tmp_path / "fast.mp4"
    _faststart_copy(good, fast)
    data, front = good.read_bytes(), fast.read_bytes()
    broken = card / "Normal"
    (broken / "a_index_lost.mp4").write_bytes(data[:-1024])  # index at the end, cut off
    (broken / "b_tail_lost.mp4").write_bytes(front[:-3000])  # index at the front, last frames cut off
    (broken / "c_tail_zeroed.mp4").write_bytes(front[:-3000] + bytes(3000))  # pre-allocated, never written
    _faststart_copy(good, broken / "d_frames_lost.mp4", gap_after=12)  # a hole in the middle of the recording
    report = ingest_card(recorder, card, vehicle_id="T01", staff_id="rec01")
    assert report.stored == 1
    assert sorted(Path(name).name for name in report.rejected) == [
        "a_index_lost.mp4",
        "b_tail_lost.mp4",
        "c_tail_zeroed.mp4",
        "d_frames_lost.mp4",
    ]
    assert len(list((recorder.footage.root / "aside").rglob("*.mp4"))) == 4
    assert list((recorder.footage.root / "tmp").iterdir()) == []  # every scratch copy committed or set aside


def test_the_faststart_copy_itself_is_accepted(tmp_path: Path) -> None:
    """The remux above is a valid segment: the files it breaks fail because of the damage, not the layout."""
    card = tmp_path / "card"
    spec = CardSpec(vehicle_id="T01", start=CARD_START, segments=1, segment_seconds=6, corrupt=0, misnamed=0, seed=9)
    good = make_card(card, spec)[0]
    fast = tmp_path / "fast.mp4"
    _faststart_copy(good, fast)
    checked = check_segment(fast)
    assert (checked.start, checked.frames) == (CARD_START, 30)
    assert checked.end - checked.start == dt.timedelta(seconds=6)
