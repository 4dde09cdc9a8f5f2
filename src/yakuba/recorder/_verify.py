"""Checking a segment's bytes with PyAV: structurally at ingest, by decoding every frame in the scrub.

The structural check reads the container's index and every sample without decoding most of them, so it
runs at disk speed; what it cannot see (a bit flipped inside a picture in the middle of the file) the scrub
finds later by decoding every frame with the decoder told to treat any concealed error as an error.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import av
from av.container import InputContainer
from av.packet import Packet
from av.video.stream import VideoStream

from yakuba.recorder.errors import CorruptSegmentError

__all__ = ["MAX_FRAME_GAP", "MAX_SEGMENT", "CheckedSegment", "check_segment", "decode_segment"]

MAX_SEGMENT = dt.timedelta(minutes=30)
"""Recorders loop over 1-10 minute files; a longer "segment" is a broken header, not footage."""

MAX_FRAME_GAP = dt.timedelta(seconds=1)
"""Largest step between two frames' decode times: a longer gap inside one segment is lost footage."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckedSegment:
    start: dt.datetime
    end: dt.datetime
    frames: int
    decoded: int


def _creation_time(text: str | None) -> dt.datetime:
    if not text:
        raise CorruptSegmentError("the container holds no recording time (creation_time)")
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise CorruptSegmentError("the container's recording time is malformed") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _length(container: InputContainer, stream: VideoStream) -> dt.timedelta:
    if stream.duration is not None and stream.time_base is not None:
        seconds = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        seconds = container.duration / av.time_base
    else:
        raise CorruptSegmentError("the container states no duration")
    length = dt.timedelta(seconds=seconds)
    if not dt.timedelta(0) < length <= MAX_SEGMENT:
        raise CorruptSegmentError("the container states an impossible duration")
    return length


def _decoder(stream: VideoStream) -> av.VideoCodecContext:
    """A fresh decoder for STREAM that fails on any bitstream error instead of concealing it."""
    ctx = av.CodecContext.create(stream.codec_context.name, "r")
    if not isinstance(ctx, av.VideoCodecContext):
        raise CorruptSegmentError("the video stream's codec is not a video codec")
    ctx.extradata = stream.codec_context.extradata
    ctx.options = {"err_detect": "explode"}  # FFmpeg conceals broken macroblocks by default; we want to know
    ctx.thread_count = 1  # files are checked in parallel, one core each
    return ctx


def _decode(ctx: av.VideoCodecContext, packets: list[Packet[VideoStream]]) -> int:
    """Decode PACKETS as one run from a keyframe and drain the decoder; the number of frames out."""
    frames = sum(len(ctx.decode(p)) for p in packets) + len(ctx.decode(None))
    ctx.flush_buffers()
    return frames


def _nal_length_size(extradata: bytes | None) -> int | None:
    """Bytes of each NAL unit's length prefix in an 'avcC' (MP4) H.264 stream; None when not length-prefixed."""
    if extradata and len(extradata) >= 7 and extradata[0] == 1:
        return (extradata[4] & 0x03) + 1
    return None


def _check_nal_units(data: bytes, size_bytes: int) -> None:
    """A sample is whole, length-prefixed NAL units that fill it exactly, with at least one picture slice.

    Zero-filled or truncated samples (a pre-allocated file the power cut off) and sample tables pointing at
    the wrong bytes fail here without decoding.
    """
    pos, pictures, end = 0, 0, len(data)
    while pos < end:
        if pos + size_bytes > end:
            raise CorruptSegmentError("a video sample ends inside a NAL unit's length")
        length = int.from_bytes(data[pos : pos + size_bytes], "big")
        pos += size_bytes
        if length == 0 or pos + length > end:
            raise CorruptSegmentError("a video sample's NAL units do not fill it (truncated or overwritten)")
        header = data[pos]
        if header & 0x80 or not header & 0x1F:
            raise CorruptSegmentError("a video sample holds an invalid NAL unit header")
        pictures += 1 <= header & 0x1F <= 5
        pos += length
    if not pictures:
        raise CorruptSegmentError("a video sample holds no picture")


def _open(path: Path) -> tuple[InputContainer, VideoStream, dt.datetime, dt.timedelta]:
    container = av.open(str(path))
    try:
        if not container.streams.video:
            raise CorruptSegmentError("the file holds no video stream")
        stream = container.streams.video[0]
        return container, stream, _creation_time(container.metadata.get("creation_time")), _length(container, stream)
    except BaseException:
        container.close()
        raise


def check_segment(path: Path) -> CheckedSegment:
    """The structural check at ingest: start and end from the container, every sample read, ends decoded.

    1. Open the container (a file that is not one, or lost its index to a truncation, fails here);
       start = its creation_time, end = start + the video stream's duration (never the file's name or times).
    2. Demux every sample: each one present and non-empty, made of well-formed NAL units that fill it
       exactly; decode times strictly increasing with no gap over MAX_FRAME_GAP; the first sample a keyframe.
    3. The samples add up to what the index promises (count) and span the stated duration.
    4. Decode the first keyframe and the whole last GOP (from the last keyframe to the final frame), with a
       decoder that fails on any concealed error: the head proves the parameter sets, the tail is where a
       power cut or a truncated copy does its damage. The middle is left to the scrub.
    """
    try:
        container, stream, start, length = _open(path)  # step 1
        with container:
            nal_size = _nal_length_size(stream.codec_context.extradata)
            time_base = stream.time_base
            if time_base is None:
                raise CorruptSegmentError("the video stream states no time base")
            max_gap = int(MAX_FRAME_GAP.total_seconds() / time_base)
            first_pts: int | None = None
            first_dts = 0
            last_pts = last_dts = -(2**62)
            last_duration = count = 0
            head: list[Packet[VideoStream]] = []
            tail: list[Packet[VideoStream]] = []
            for packet in container.demux(stream):  # step 2
                if packet.size == 0 and packet.dts is None:
                    continue  # the demuxer's end-of-stream marker
                if packet.size == 0 or packet.dts is None or packet.pts is None:
                    raise CorruptSegmentError("a video sample is empty or has no timestamp")
                if count == 0:
                    if not packet.is_keyframe:
                        raise CorruptSegmentError("the segment does not start with a keyframe")
                    head.append(packet)
                    first_pts, first_dts = packet.pts, packet.dts
                elif not 0 < packet.dts - last_dts <= max_gap:
                    raise CorruptSegmentError("the video's timestamps go back or jump (lost or reordered frames)")
                if nal_size is not None:
                    _check_nal_units(bytes(packet), nal_size)
                if packet.is_keyframe:
                    tail = []
                tail.append(packet)
                last_dts, last_pts = packet.dts, max(last_pts, packet.pts)
                last_duration = packet.duration or 0
                count += 1
            if count == 0 or first_pts is None:
                raise CorruptSegmentError("the video stream holds no frames")
            if stream.frames and count != stream.frames:  # step 3
                raise CorruptSegmentError(f"only {count} of {stream.frames} frames are present (truncated)")
            step = (last_dts - first_dts) / (count - 1) if count > 1 else last_duration  # mean frame interval
            span = float((last_pts + (last_duration or step) - first_pts) * time_base)
            if abs(span - length.total_seconds()) > max(0.1, 2 * step * float(time_base)):
                raise CorruptSegmentError("the frames do not span the duration the container states")
            decoder = _decoder(stream)  # step 4
            decoded = _decode(decoder, head)
            decoded_tail = _decode(decoder, tail)
            if decoded != 1 or decoded_tail != len(tail):
                raise CorruptSegmentError("the first or last frames do not decode")
    except av.FFmpegError as exc:
        raise CorruptSegmentError(f"the file does not decode ({type(exc).__name__})") from exc
    return CheckedSegment(start=start, end=start + length, frames=count, decoded=decoded + decoded_tail)


def decode_segment(path: Path) -> CheckedSegment:
    """The scrub's full check: decode every frame with a decoder that fails on any concealed error.

    Raises CorruptSegmentError on a decode error or when fewer frames decode than the container holds.
    """
    try:
        container, stream, start, length = _open(path)
        with container:
            decoder = _decoder(stream)
            decoder.thread_type = "FRAME"  # the scrub decodes one segment at a time: both cores on it
            decoder.thread_count = 0  # as many as the machine has
            packets = 0
            decoded = 0
            for packet in container.demux(stream):
                if packet.size == 0:
                    continue
                packets += 1
                decoded += len(decoder.decode(packet))
            decoded += len(decoder.decode(None))
    except av.FFmpegError as exc:
        raise CorruptSegmentError(f"a frame does not decode ({type(exc).__name__})") from exc
    if decoded == 0 or decoded < packets or (stream.frames and decoded < stream.frames):
        raise CorruptSegmentError(f"only {decoded} of {max(packets, stream.frames)} frames decode")
    return CheckedSegment(start=start, end=start + length, frames=packets, decoded=decoded)
