"""Read a segment's recording times from its container and prove every frame decodes (PyAV)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import av

from yakuba.recorder.errors import CorruptSegmentError

__all__ = ["MAX_SEGMENT", "ProbedSegment", "probe_segment"]

MAX_SEGMENT = dt.timedelta(minutes=30)
"""Recorders loop over 1-10 minute files; a longer "segment" is a broken header, not footage."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbedSegment:
    start: dt.datetime
    end: dt.datetime
    frames: int


def _creation_time(text: str | None) -> dt.datetime:
    if not text:
        raise CorruptSegmentError("the container holds no recording time (creation_time)")
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise CorruptSegmentError("the container's recording time is malformed") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def probe_segment(path: Path) -> ProbedSegment:
    """The segment's start and end as the container says (never the file name or file times).

    1. Open the container; a file that is not one (placeholder, truncated header) is corrupt.
    2. Start = the container's creation_time; end = start + the video stream's duration.
    3. Decode every frame; a decode error, or fewer frames than the index promises (a truncated file),
       is corrupt.
    """
    try:
        with av.open(str(path)) as container:  # step 1
            if not container.streams.video:
                raise CorruptSegmentError("the file holds no video stream")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            start = _creation_time(container.metadata.get("creation_time"))  # step 2
            if stream.duration is not None and stream.time_base is not None:
                seconds = float(stream.duration * stream.time_base)
            elif container.duration is not None:
                seconds = container.duration / av.time_base
            else:
                raise CorruptSegmentError("the container states no duration")
            length = dt.timedelta(seconds=seconds)
            if not dt.timedelta(0) < length <= MAX_SEGMENT:
                raise CorruptSegmentError("the container states an impossible duration")
            decoded = sum(1 for _ in container.decode(stream))  # step 3
            if decoded == 0 or (stream.frames and decoded < stream.frames):
                raise CorruptSegmentError(f"only {decoded} of {stream.frames} frames decode (truncated)")
    except av.FFmpegError as exc:
        raise CorruptSegmentError(f"the file does not decode ({type(exc).__name__})") from exc
    return ProbedSegment(start=start, end=start + length, frames=decoded)
