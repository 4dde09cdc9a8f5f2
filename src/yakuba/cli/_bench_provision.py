"""`yakuba bench provision`: exact export of a window from 1080p segments against a stream copy, and blurring."""

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
from fractions import Fraction
from pathlib import Path
from typing import Annotated

import av
import typer
from rich.console import Console

from yakuba.machine import cpu_model
from yakuba.recorder.media import CardSpec, make_card
from yakuba.recorder.provision import Blurrer, ClipSource, Detector, decode_times, export_window

__all__ = ["bench_provision"]

START = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
SEGMENT_SECONDS = 60
"""Recorders loop over 1-10 minute files; one-minute files put the most boundaries in the window."""
WINDOW_OFFSET = dt.timedelta(seconds=30.3)
"""The window starts mid-segment and off any keyframe, as a real request does."""


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


@dataclass(frozen=True, slots=True)
class _Run:
    wall: float
    cpu: float


def _median(runs: list[_Run]) -> _Run:
    return _Run(wall=statistics.median(r.wall for r in runs), cpu=statistics.median(r.cpu for r in runs))


def _stream_copy(
    ffmpeg: str | None, sources: list[ClipSource], *, start: dt.datetime, window: dt.timedelta, dest: Path
) -> _Run:
    """The baseline: `ffmpeg -c copy` of the window (from the keyframe before it, so not frame-accurate); its CPU
    time is the child process's."""
    began, children = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    own = time.process_time()
    if ffmpeg:
        listing = dest.with_suffix(".txt")
        listing.write_text("".join(f"file '{s.path}'\n" for s in sources))
        offset = (start - sources[0].start).total_seconds()
        cut = ["-ss", str(offset), "-i", str(listing), "-t", str(window.total_seconds()), "-c", "copy"]
        subprocess.run([ffmpeg, "-y", "-v", "error", "-f", "concat", "-safe", "0", *cut, str(dest)], check=True)
    else:
        _remux(sources, start=start, end=start + window, dest=dest)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime + time.process_time() - own
    return _Run(wall=wall, cpu=cpu)


def _decode_errors(ffmpeg: str | None, path: Path) -> str:
    if not ffmpeg:
        return "not checked (ffmpeg absent)"
    done = subprocess.run([ffmpeg, "-v", "error", "-i", str(path), "-f", "null", "-"], capture_output=True, text=True)
    lines = done.stderr.strip().splitlines()
    return "none" if done.returncode == 0 and not lines else f"{len(lines)} error lines"


def bench_provision(
    minutes: Annotated[float, typer.Option(help="Length of the exported window.")] = 10.0,
    fps: Annotated[int, typer.Option(help="Frame rate of the synthetic footage.")] = 15,
    blur_seconds: Annotated[float, typer.Option(help="Seconds of the window exported with blurring.")] = 20.0,
    short: Annotated[bool, typer.Option("--short", help="A 1-minute window and 5 s of blurring.")] = False,
    width: Annotated[int, typer.Option(help="Frame width.")] = 1920,
    height: Annotated[int, typer.Option(help="Frame height.")] = 1080,
    repeat: Annotated[int, typer.Option(help="Runs of the copy and the exact export, taken in turn.")] = 5,
) -> None:
    """Export a MINUTES window from 1080p one-minute segments: exact (smart cut: whole GOPs copied, boundary GOPs
    re-encoded) against a stream copy of the same window (`ffmpeg -c copy`, or PyAV's remux when ffmpeg is
    absent), in turn REPEAT times, medians of wall and CPU time; then blurring (every frame) in frames per second."""
    console = Console()
    if short:
        minutes, blur_seconds = 1.0, 5.0
    console.print(f"machine: {os.cpu_count()} cores, {cpu_model()}; PyAV {av.__version__}")
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
        baseline = "ffmpeg -c copy" if ffmpeg else "PyAV remux (ffmpeg binary absent: stands in for ffmpeg -c copy)"
        copies: list[_Run] = []
        exacts: list[_Run] = []
        load = os.getloadavg()[0]
        for _ in range(max(1, repeat)):
            copies.append(_stream_copy(ffmpeg, sources, start=start, window=window, dest=root / "copy.mp4"))
            began, cpu = time.perf_counter(), time.process_time()
            clip = export_window(sources=sources, start=start, end=end, dest=root / "exact.mp4")
            exacts.append(_Run(wall=time.perf_counter() - began, cpu=time.process_time() - cpu))
        load = max(load, os.getloadavg()[0])
        copy, exact = _median(copies), _median(exacts)
        times = decode_times(clip.path)
        frame = dt.timedelta(seconds=1 / fps)
        accurate = abs(times[0] - start) <= frame and abs(times[-1] - (end - frame)) <= frame
        console.print(f"load average (1 min) during the runs: up to {load:.1f}; medians of {len(copies)} runs each")
        console.print(f"stream copy ({baseline}): {copy.wall:.3f} s wall, {copy.cpu:.3f} s CPU")
        console.print(
            f"exact export (smart cut): {exact.wall:.3f} s wall, {exact.cpu:.3f} s CPU, {clip.frames} frames "
            f"({clip.copied} copied, {clip.frames - clip.copied} re-encoded), "
            f"{exact.cpu / clip.frames * 1e6:.0f} us CPU per frame"
        )
        console.print(
            f"speed relative to the stream copy: {copy.wall / exact.wall:.2f}x wall, {copy.cpu / exact.cpu:.2f}x CPU "
            f"(target 0.8x); first/last frame within one frame of the request: {accurate}; "
            f"decoder errors (ffmpeg -v error): {_decode_errors(ffmpeg, clip.path)}"
        )

        blur_end = start + dt.timedelta(seconds=blur_seconds)
        blurrer = Blurrer(detector=Detector.from_opencv())
        began, cpu = time.perf_counter(), time.process_time()
        blurred = export_window(sources=sources, start=start, end=blur_end, dest=root / "blur.mp4", blurrer=blurrer)
        blur_s, blur_cpu = time.perf_counter() - began, time.process_time() - cpu
        console.print(
            f"blurred export (every frame decoded, blurred, re-encoded): {blurred.frames} frames in {blur_s:.2f} s "
            f"= {blurred.frames / blur_s:.1f} frames/s, {blur_cpu / blurred.frames * 1000:.0f} ms CPU per frame "
            f"({len(blurred.flagged)} frames flagged for review); load average now {os.getloadavg()[0]:.1f}"
        )
