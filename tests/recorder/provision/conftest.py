"""Synthetic recorder segments for the export tests: H.264 as two makes of recorder write it, frames that differ."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

from yakuba.recorder.provision import ClipSource

START = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)
FPS = 10
FRAME = dt.timedelta(seconds=1 / FPS)
WIDTH, HEIGHT = 160, 96
AUDIO_RATE, AUDIO_SAMPLES = 16_000, 1024

RECORDER_A = {"preset": "ultrafast", "g": "20"}
"""What the synthetic cards write: Constrained Baseline, no B-frames, a keyframe every 2 s."""
RECORDER_B = {"preset": "medium", "g": "15", "bf": "2", "profile": "high"}
"""Another make of recorder: CABAC, B-frames (frames stored out of presentation order), other parameter sets."""
OPEN_GOP = {"preset": "medium", "g": "15", "bf": "2", "x264-params": "open-gop=1"}
"""Open GOPs: pictures after a keyframe in decode order refer to the GOP before it; no piece can start there."""


def _picture(n: int, tint: int, width: int, height: int) -> npt.NDArray[np.uint8]:
    """A frame that differs from every other: gradients that move with N and a block that walks across."""
    y, x = np.mgrid[0:height, 0:width]
    image = np.empty((height, width, 3), np.uint8)
    image[..., 0] = (x * 2 + n * 5) % 256
    image[..., 1] = (y * 3 + n * 2) % 256
    image[..., 2] = tint
    left = (n * 4) % (width - 16)
    image[40:56, left : left + 16] = 255
    return image


def segment(
    path: Path,
    *,
    start: dt.datetime,
    seconds: int,
    options: dict[str, str],
    codec: str = "libx264",
    tint: int = 60,
    time_base: Fraction | None = None,
    size: tuple[int, int] = (WIDTH, HEIGHT),
    audio: bool = False,
) -> ClipSource:
    """One recorder file of SECONDS from START (creation_time), encoded with OPTIONS; frame n of the day shows the
    same picture in every file, so overlapping files agree; with AUDIO, a mono AAC tone alongside."""
    with av.open(str(path), "w", format="mp4") as out:
        out.metadata["creation_time"] = start.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        video = out.add_stream(codec, rate=FPS)
        video.width, video.height, video.pix_fmt = *size, "yuv420p"
        video.options = options
        if time_base is not None:
            video.time_base = time_base
        sound = out.add_stream("aac", rate=AUDIO_RATE) if audio else None
        if sound is not None:
            sound.layout = "mono"  # type: ignore[attr-defined]
        first = round((start - START).total_seconds() * FPS)
        for n in range(seconds * FPS):
            frame = av.VideoFrame.from_ndarray(_picture(first + n, tint, *size), format="rgb24")
            frame.pts, frame.time_base = n, Fraction(1, FPS)
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
        if sound is not None:
            for n in range(seconds * AUDIO_RATE // AUDIO_SAMPLES):
                tone = (np.sin(np.arange(AUDIO_SAMPLES) / 8) * 0.2).astype(np.float32).reshape(1, -1)
                chunk = av.AudioFrame.from_ndarray(tone, format="fltp", layout="mono")
                chunk.sample_rate, chunk.pts, chunk.time_base = AUDIO_RATE, n * AUDIO_SAMPLES, Fraction(1, AUDIO_RATE)
                for packet in sound.encode(chunk):
                    out.mux(packet)
            for packet in sound.encode():
                out.mux(packet)
    return ClipSource(path=path, sha256=path.stem.ljust(64, "0"), start=start)
