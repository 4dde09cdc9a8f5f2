"""`yakuba bench recorder`: ingest throughput against cp + sha256sum, and a sweep over a million segments."""

from __future__ import annotations

import datetime as dt
import os
import platform
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from yakuba.clock import FixedClock
from yakuba.recorder import Recorder, ingest_card
from yakuba.recorder.media import CardSpec, make_card
from yakuba.recorder.service import MINIMUM_RETENTION, sample_fleet
from yakuba.recorder.store import count_segments, start_ingest
from yakuba.recorder.store._schema import segments as segments_table

__all__ = ["bench_recorder"]

START = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def bench_recorder(
    segments: Annotated[int, typer.Option(help="Segments on the benchmark card.")] = 20,
    seconds: Annotated[int, typer.Option(help="Seconds per segment.")] = 10,
    catalogue: Annotated[int, typer.Option(help="Segments in the sweep catalogue.")] = 1_000_000,
) -> None:
    """Measure ingest against `cp` + `sha256sum` of the same dump, and one sweep over CATALOGUE segments."""
    console = Console()
    console.print(f"machine: {os.cpu_count()} cores, {_cpu_model()}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        card = root / "card"
        make_card(
            card,
            CardSpec(
                vehicle_id="T01",
                start=START,
                segments=segments,
                segment_seconds=seconds,
                fps=15,
                width=1280,
                height=720,
                corrupt=0,
            ),
        )
        size = sum(p.stat().st_size for p in card.rglob("*") if p.is_file())
        t0 = time.perf_counter()
        subprocess.run(["cp", "-r", str(card), str(root / "copy")], check=True)
        subprocess.run(["sh", "-c", f"find {root / 'copy'} -type f -exec sha256sum {{}} + > /dev/null"], check=True)
        baseline = time.perf_counter() - t0
        clock = FixedClock(START + dt.timedelta(hours=1))
        rec = Recorder.open(
            database_url=f"sqlite:///{root / 'r.sqlite3'}",
            footage_root=root / "footage",
            key_dir=root / "keys",
            origin="yakuba/bench/audit/recorder",
            clock=clock,
        )
        rec.install_fleet(sample_fleet(), staff_id="rec01", counter_staff_id="sup01")
        t0 = time.perf_counter()
        ingest_card(rec, card, vehicle_id="T01", staff_id="rec01")
        ours = time.perf_counter() - t0
        mb = size / 1e6
        console.print(
            f"ingest: {mb:.1f} MB in {ours:.2f} s ({mb / ours:.1f} MB/s, full decode); "
            f"cp+sha256sum {baseline:.2f} s ({mb / baseline:.1f} MB/s); ratio {baseline / ours:.2f}x"
        )
        shutil.rmtree(root / "copy")
        _bench_sweep(console, root, catalogue)


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
