"""`yakuba bench provision`: exact export of a window from 1080p segments against a stream copy, and blurring."""

from __future__ import annotations

import datetime as dt
import os
import platform
import shutil
import subprocess
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Annotated

import av
import typer
from rich.console import Console

from yakuba.recorder.media import CardSpec, make_card
from yakuba.recorder.provision import Blurrer, ClipSource, Detector, decode_times, export_window

__all__ = ["bench_provision"]

START = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
SEGMENT_SECONDS = 60
"""Recorders loop over 1-10 minute files; one-minute files put the most boundaries in the window."""
WINDOW_OFFSET = dt.timedelta(seconds=30.3)
"""The window starts mid-segment and off any keyframe, as a real request does."""


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _segments(root: Path, *, count: int, fps: int, width: int, height: int) -> list[ClipSource]:
    """One synthetic 1080p minute, re-stamped (stream copy) as COUNT consecutive segments: fast to make."""
    card = root / "card"
    (first,) = [
        p
        for p in make_card(
            card,
            CardSpec(
                vehicle_id="T01",
                start=START,
                segments=1,
                segment_seconds=SEGMENT_SECONDS,
                fps=fps,
                width=width,
                height=height,
                event_every=0,
                misnamed=0,
                corrupt=0,
            ),
        )
    ]
    sources: list[ClipSource] = []
    for n in range(count):
        when = START + dt.timedelta(seconds=n * SEGMENT_SECONDS)
        dest = root / f"seg{n:03d}.mp4"
        with av.open(str(first)) as src, av.open(str(dest), "w", format="mp4") as out:
            out.metadata["creation_time"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
            ins = src.streams.video[0]
            ost = out.add_stream_from_template(ins)
            for packet in src.demux(ins):
                if packet.dts is None:
                    continue
                packet.stream = ost
                out.mux(packet)
        sources.append(ClipSource(path=dest, sha256=f"{n:064d}", start=when))
    return sources


def _remux(sources: list[ClipSource], *, start: dt.datetime, end: dt.datetime, dest: Path) -> None:
    """What `ffmpeg -c copy` does, in PyAV: packets from the keyframe before START to END, not re-encoded."""
    with av.open(str(dest), "w", format="mp4") as out:
        ost = None
        origin: dt.datetime | None = None
        for source in sources:
            if source.start >= end:
                break
            with av.open(str(source.path)) as src:
                ins = src.streams.video[0]
                tb = ins.time_base or Fraction(1, 1)
                if start > source.start:
                    src.seek(int((start - source.start).total_seconds() / tb), stream=ins, backward=True)
                if ost is None:
                    ost = out.add_stream_from_template(ins)
                    origin = source.start
                    out.metadata["creation_time"] = origin.strftime("%Y-%m-%dT%H:%M:%SZ")
                assert origin is not None
                shift = int((source.start - origin).total_seconds() / tb)
                for packet in src.demux(ins):
                    if packet.dts is None or packet.pts is None:
                        continue
                    if source.start + dt.timedelta(seconds=float(packet.pts * tb)) >= end:
                        break
                    packet.pts += shift
                    packet.dts += shift
                    packet.stream = ost
                    out.mux(packet)


def bench_provision(
    minutes: Annotated[float, typer.Option(help="Length of the exported window.")] = 10.0,
    fps: Annotated[int, typer.Option(help="Frame rate of the synthetic footage.")] = 15,
    blur_seconds: Annotated[float, typer.Option(help="Seconds of the window exported with blurring.")] = 20.0,
    short: Annotated[bool, typer.Option("--short", help="A 1-minute window and 5 s of blurring.")] = False,
    width: Annotated[int, typer.Option(help="Frame width.")] = 1920,
    height: Annotated[int, typer.Option(help="Frame height.")] = 1080,
) -> None:
    """Export a MINUTES window from 1080p one-minute segments: exact (re-encoded) against a stream copy of the
    same window (`ffmpeg -c copy`, or PyAV's remux when ffmpeg is absent); then blurring in frames per second."""
    console = Console()
    if short:
        minutes, blur_seconds = 1.0, 5.0
    console.print(f"machine: {os.cpu_count()} cores, {_cpu_model()}; PyAV {av.__version__}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        window = dt.timedelta(minutes=minutes)
        count = int((WINDOW_OFFSET + window).total_seconds() // SEGMENT_SECONDS) + 1
        made = time.perf_counter()
        sources = _segments(root, count=count, fps=fps, width=width, height=height)
        console.print(
            f"footage: {count} segments of {SEGMENT_SECONDS} s, {width}x{height} @ {fps} fps "
            f"(made in {time.perf_counter() - made:.0f} s)"
        )
        start = START + WINDOW_OFFSET
        end = start + window

        ffmpeg = shutil.which("ffmpeg")
        began = time.perf_counter()
        if ffmpeg:
            listing = root / "list.txt"
            listing.write_text("".join(f"file '{s.path}'\n" for s in sources))
            subprocess.run(
                [
                    ffmpeg,
                    "-v",
                    "error",
                    "-f",
                    "concat",
                    "-safe",
                    "0",
                    "-ss",
                    str(WINDOW_OFFSET.total_seconds()),
                    "-i",
                    str(listing),
                    "-t",
                    str(window.total_seconds()),
                    "-c",
                    "copy",
                    str(root / "copy.mp4"),
                ],
                check=True,
            )
            baseline = "ffmpeg -c copy"
        else:
            _remux(sources, start=start, end=end, dest=root / "copy.mp4")
            baseline = "PyAV remux (ffmpeg binary absent: stands in for ffmpeg -c copy)"
        copy_s = time.perf_counter() - began
        copied = len(decode_times(root / "copy.mp4")) if not ffmpeg else 0

        began = time.perf_counter()
        clip = export_window(sources=sources, start=start, end=end, dest=root / "exact.mp4")
        exact_s = time.perf_counter() - began
        times = decode_times(clip.path)
        frame = dt.timedelta(seconds=1 / fps)
        accurate = abs(times[0] - start) <= frame and abs(times[-1] - (end - frame)) <= frame
        console.print(
            f"stream copy [{baseline}]: {copy_s:.2f} s"
            + (f" ({copied} frames, from the keyframe before the window)" if copied else "")
        )
        console.print(
            f"exact export: {exact_s:.2f} s, {clip.frames} frames, {clip.frames / exact_s:.0f} frames/s, "
            f"{copy_s / exact_s:.2f}x the stream copy's speed (target 0.8x); first/last frame within one frame "
            f"of the request: {accurate}"
        )

        blur_end = start + dt.timedelta(seconds=blur_seconds)
        blurrer = Blurrer(detector=Detector.from_opencv())
        began = time.perf_counter()
        blurred = export_window(sources=sources, start=start, end=blur_end, dest=root / "blur.mp4", blurrer=blurrer)
        blur_s = time.perf_counter() - began
        console.print(
            f"blurred export: {blurred.frames} frames in {blur_s:.2f} s = {blurred.frames / blur_s:.1f} frames/s "
            f"({len(blurred.flagged)} frames flagged for review)"
        )
