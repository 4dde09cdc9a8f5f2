"""Re-encoding one boundary GOP of a smart cut into MP4 samples (runs beside the copying, in a worker thread)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import av
from av.packet import Packet
from av.stream import Stream
from av.video.codeccontext import VideoCodecContext
from av.video.frame import PictureType, VideoFrame

from yakuba.recorder.errors import ExportError
from yakuba.recorder.provision._avc import NAL_PPS, NAL_SPS, AvcConfig, annexb_units, length_prefixed

__all__ = ["BoundaryGop", "Sample", "reencode_gop"]


@dataclass(frozen=True, slots=True)
class Sample:
    """One encoded picture as an MP4 sample (length-prefixed NAL units), timed in the source's ticks."""

    data: bytes
    pts: int
    duration: int
    keyframe: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class BoundaryGop:
    """A GOP as demuxed (decode order, from its keyframe) and what of it to keep: pts in [lo, hi)."""

    packets: Sequence[Packet[Stream]]
    extradata: bytes
    config: AvcConfig
    time_base: Fraction
    fps: Fraction
    lo: int
    hi: int


def reencode_gop(gop: BoundaryGop, *, length_size: int, options: dict[str, str]) -> list[Sample]:
    """Decode the whole GOP (its frames refer back to its keyframe) and encode the frames in [lo, hi) as a new
    piece: x264 held to the source's profile and level, no B-frames (decode order = presentation order), and the
    encoder's SPS/PPS in-band in front of its first picture (the piece starts with an IDR picture)."""
    decoder = av.CodecContext.create("h264", "r")
    decoder.extradata = gop.extradata
    decoder.thread_type = "AUTO"
    encoder: VideoCodecContext | None = None
    frame_ticks = max(1, round(1 / (gop.fps * gop.time_base)))
    kept = 0
    samples: list[Sample] = []

    def write(packets: list[Packet[Stream]]) -> None:
        for packet in packets:
            units = annexb_units(bytes(packet))
            if not samples and not {NAL_SPS, NAL_PPS} <= {unit[0] & 0x1F for unit in units}:
                raise ExportError("the encoder wrote no parameter sets in front of its first picture")
            assert packet.pts is not None
            data = b"".join(length_prefixed(unit, length_size) for unit in units)
            samples.append(Sample(data, packet.pts, packet.duration or frame_ticks, packet.is_keyframe))

    def encode(frames: list[VideoFrame]) -> None:
        nonlocal kept, encoder
        for frame in frames:
            if frame.pts is not None and gop.lo <= frame.pts < gop.hi:
                if encoder is None:  # picture size and pixel format (TV or full range) as decoded
                    encoder = av.CodecContext.create("libx264", "w")
                    encoder.width, encoder.height, encoder.pix_fmt = frame.width, frame.height, frame.format.name
                    encoder.time_base, encoder.framerate = gop.time_base, gop.fps
                    config = gop.config
                    encoder.options = {**options, "profile": config.x264_profile, "level": config.x264_level, "bf": "0"}
                frame.pict_type = PictureType.NONE
                frame.time_base = gop.time_base
                kept += 1
                write(encoder.encode(frame))

    for packet in gop.packets:
        encode(decoder.decode(packet))
    encode(decoder.decode(None))
    if encoder is not None:
        write(encoder.encode(None))
    if len(samples) != kept or not samples or not samples[0].keyframe:
        raise ExportError("the boundary GOP did not re-encode frame for frame")
    return samples
