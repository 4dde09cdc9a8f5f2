"""`yakuba bench recorder`: ingest against cp + sha256sum of the same card dump, the scrub's decode rate, and a
sweep over a million segments."""

from __future__ import annotations

import datetime as dt
import os
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import av
import typer
from rich.console import Console

from yakuba.clock import FixedClock
from yakuba.machine import cpu_model
from yakuba.recorder import Recorder, ingest_card, scrub
from yakuba.recorder.service import MINIMUM_RETENTION, sample_fleet
from yakuba.recorder.store import count_segments, start_ingest
from yakuba.recorder.store._schema import segments as segments_table

__all__ = ["bench_recorder"]

START = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
NOISE_PLANES = 4
"""Distinct random pictures the bench card cycles through (shifted every frame): enough that no frame repeats."""


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _write_segment(path: Path, *, start: dt.datetime, seconds: int, fps: int, size: tuple[int, int], kbps: int) -> None:
    """One H.264 MP4 segment at a recorder's bitrate: textured pictures (sensor noise, moving), not flat colour,
    so the file is as large as a real one and decodes as hard."""
    width, height = size
    luma = width * height
    pool = [os.urandom(luma * 3 // 2 + width * NOISE_PLANES) for _ in range(NOISE_PLANES)]
    with av.open(str(path), "w", format="mp4") as out:
        out.metadata["creation_time"] = start.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        rate = f"{kbps}k"
        stream.options = {"preset": "ultrafast", "g": str(fps * 2), "b": rate, "maxrate": rate, "bufsize": rate}
        for n in range(seconds * fps):
            noise = pool[n % NOISE_PLANES]
            shift = (n * 4) % (width * NOISE_PLANES)
            frame = av.VideoFrame(width, height, "yuv420p")
            frame.planes[0].update(noise[shift : shift + luma])
            frame.planes[1].update(noise[luma : luma + luma // 4])
            frame.planes[2].update(noise[luma + luma // 4 : luma + luma // 2])
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def _make_bench_card(dest: Path, *, segments: int, seconds: int, fps: int, size: tuple[int, int], kbps: int) -> None:
    """A card dump laid out as `yakuba recorder make-card` writes it (Normal/, Event/, GPS/ sidecars)."""
    for sub in ("Normal", "Event", "GPS"):
        (dest / sub).mkdir(parents=True, exist_ok=True)
    for index in range(segments):
        start = START + dt.timedelta(seconds=index * seconds)
        folder, letter = ("Event", "E") if index % 3 == 2 else ("Normal", "N")
        name = start.strftime("%Y%m%d_%H%M%S") + f"_{letter}F"
        _write_segment(dest / folder / f"{name}.mp4", start=start, seconds=seconds, fps=fps, size=size, kbps=kbps)
        track = "".join(
            f"$GPRMC,{(start + dt.timedelta(seconds=s)):%H%M%S}.00,A,3539.4860,N,13942.1020,E,11.7,0.0,"
            f"{start:%d%m%y},,,A*00\r\n"
            for s in range(seconds)
        )
        (dest / "GPS" / f"{name}.nmea").write_text(track, encoding="ascii")


@dataclass(frozen=True, slots=True)
class _Round:
    baseline_s: float
    sha256sum_s: float
    baseline_cpu_s: float
    ingest_s: float
    ingest_cpu_s: float


def _baseline(card: Path, copy: Path) -> tuple[float, float, float]:
    """`cp -r` of the card, then `sha256sum` of every copied file: (wall s, of which sha256sum s, CPU s)."""
    cpu = _children_cpu()
    t0 = time.perf_counter()
    subprocess.run(["cp", "-r", str(card), str(copy)], check=True)
    t1 = time.perf_counter()
    subprocess.run(["sh", "-c", f"find {copy} -type f -exec sha256sum {{}} + > /dev/null"], check=True)
    t2 = time.perf_counter()
    return t2 - t0, t2 - t1, _children_cpu() - cpu


def _open(root: Path, name: str, clock: FixedClock) -> Recorder:
    return Recorder.open(
        database_url=f"sqlite:///{root / f'{name}.sqlite3'}",
        footage_root=root / f"{name}-footage",
        key_dir=root / "keys",
        origin="yakuba/bench/audit/recorder",
        clock=clock,
    )


def _ingest_round(root: Path, card: Path, index: int) -> tuple[Recorder, float, float]:
    rec = _open(root, f"ingest{index}", FixedClock(START + dt.timedelta(hours=1)))
    rec.install_fleet(sample_fleet(), staff_id="rec01", counter_staff_id="sup01")
    cpu = time.process_time()  # the whole process: the main thread and the ingest workers
    t0 = time.perf_counter()
    report = ingest_card(rec, card, vehicle_id="T01", staff_id="rec01")
    took = time.perf_counter() - t0
    if report.rejected or report.stored == 0:
        raise typer.BadParameter("the bench card did not ingest cleanly")
    return rec, took, time.process_time() - cpu


def bench_recorder(
    segments: Annotated[int, typer.Option(help="Segments on the benchmark card.")] = 6,
    seconds: Annotated[int, typer.Option(help="Seconds per segment (recorders loop over 1-3 minutes).")] = 60,
    kbps: Annotated[int, typer.Option(help="Video bitrate of the card (a 720p fleet recorder: 4-8 Mbit/s).")] = 6000,
    rounds: Annotated[int, typer.Option(help="Alternating baseline/ingest rounds; the median is reported.")] = 3,
    catalogue: Annotated[int, typer.Option(help="Segments in the sweep catalogue.")] = 1_000_000,
) -> None:
    """Measure ingest against `cp` + `sha256sum` of the same dump, the scrub, and one sweep over CATALOGUE."""
    console = Console()
    console.print(f"machine: {os.cpu_count()} cores, {cpu_model()}; load average {_load()}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        card = root / "card"
        with console.status(f"writing a {segments} x {seconds} s card at {kbps} kbit/s (720p, 15 fps)"):
            _make_bench_card(card, segments=segments, seconds=seconds, fps=15, size=(1280, 720), kbps=kbps)
        files = [p for p in card.rglob("*") if p.is_file()]
        mb = sum(p.stat().st_size for p in files) / 1e6
        results: list[_Round] = []
        rec: Recorder | None = None
        for index in range(rounds):
            with console.status(f"round {index + 1}/{rounds}: cp + sha256sum, then ingest"):
                base, sha, base_cpu = _baseline(card, root / f"copy{index}")
                shutil.rmtree(root / f"copy{index}")
                rec, took, cpu = _ingest_round(root, card, index)
            results.append(_Round(base, sha, base_cpu, took, cpu))
            console.print(
                f"  round {index + 1}: cp+sha256sum {base:.2f} s, ingest {took:.2f} s, ratio {base / took:.2f}x "
                f"(load {_load()})"
            )
        base = statistics.median(r.baseline_s for r in results)
        took = statistics.median(r.ingest_s for r in results)
        ratios = [r.baseline_s / r.ingest_s for r in results]  # each pair measured back to back, under one load
        ingest_cpu = statistics.median(r.ingest_cpu_s for r in results) / segments
        base_cpu = statistics.median(r.baseline_cpu_s for r in results) / segments
        console.print(
            f"card: {segments} segments x {seconds} s, {mb:.1f} MB; medians of {rounds} rounds\n"
            f"ingest: {mb / took:.1f} MB/s, {segments / took:.2f} segments/s, CPU {ingest_cpu * 1000:.0f} ms per "
            f"segment (copy + SHA-256 + structural check + first keyframe and last GOP decoded; "
            f"{os.cpu_count()} cores)\n"
            f"cp + sha256sum: {mb / base:.1f} MB/s (sha256sum alone "
            f"{mb / statistics.median(r.sha256sum_s for r in results):.1f} MB/s), CPU {base_cpu * 1000:.0f} ms per "
            f"segment\n"
            f"ratio (cp + sha256sum time / ingest time, target >= 0.8x): {statistics.median(ratios):.2f}x median "
            f"of rounds ({', '.join(f'{x:.2f}' for x in ratios)}); "
            f"CPU per segment: ingest needs {ingest_cpu / base_cpu:.2f}x the baseline's"
        )
        if rec is not None:
            _bench_scrub(console, rec)
        _bench_sweep(console, root, catalogue)
    console.print(f"load average at the end: {_load()}")


def _bench_scrub(console: Console, rec: Recorder) -> None:
    with console.status("scrub: decoding every frame of the ingested card"):
        report = scrub(rec)
    console.print(
        f"scrub: {report.verified} segments, {report.frames} frames in {report.wall_seconds:.2f} s "
        f"({report.frames / report.wall_seconds:.0f} frames/s, "
        f"CPU {report.cpu_seconds / max(report.frames, 1) * 1000:.2f} ms per frame); failed {report.failed}"
    )


def _bench_sweep(console: Console, root: Path, catalogue: int) -> None:
    clock = FixedClock(START)
    rec = Recorder.open(
        database_url=f"sqlite:///{root / 'sweep.sqlite3'}",
        footage_root=root / "sweep-footage",
        key_dir=root / "keys",
        origin="yakuba/bench/audit/recorder",
        clock=clock,
    )
    rec.install_fleet(sample_fleet(), staff_id="rec01", counter_staff_id="sup01")
    span = dt.timedelta(days=8)  # a week and a day of footage from 15 trucks
    step = span / catalogue
    with rec.engine.begin() as conn:
        ingest_id = start_ingest(conn, vehicle_id="T01", card_id=None, staff_id="rec01", now=START)
        rows = []
        for n in range(catalogue):
            end = START + step * n
            rows.append(
                {
                    "sha256": f"{n:064x}",
                    "vehicle_id": f"T{n % 15 + 1:02d}",
                    "klass": "normal",
                    "start": end - dt.timedelta(minutes=1),
                    "end": end,
                    "size_bytes": 1,
                    "source_name": "x.mp4",
                    "gps_sha256": None,
                    "ingest_id": ingest_id,
                    "retain_until": end + MINIMUM_RETENTION,
                    "erase_at": end + dt.timedelta(days=7),
                }
            )
            if len(rows) == 50_000:
                conn.execute(segments_table.insert(), rows)
                rows = []
        if rows:
            conn.execute(segments_table.insert(), rows)
    clock.set(START + dt.timedelta(days=7, hours=1))  # an hour's footage past the week (the 15-minute schedule)
    t0 = time.perf_counter()
    report = rec.sweep()
    took = time.perf_counter() - t0
    with rec.engine.connect() as conn:
        left = count_segments(conn)
    console.print(
        f"sweep: catalogue {report.store_size:,}, erased {report.erased:,} in {took:.2f} s "
        f"(target < 10 s, ratio {10 / took:.1f}x under); {left:,} left"
    )
