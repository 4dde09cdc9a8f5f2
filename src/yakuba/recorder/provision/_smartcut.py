"""Smart cut: whole GOPs inside the window are copied as recorded; only the boundary GOPs are re-encoded."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Protocol

import av
from av.audio.stream import AudioStream
from av.container import InputContainer, OutputContainer
from av.packet import Packet
from av.stream import Stream
from av.video.stream import VideoStream

from yakuba.recorder.errors import ExportError
from yakuba.recorder.provision._avc import NAL_IDR, AvcConfig, NotSpliceableError, nal_types, parse_avcc
from yakuba.recorder.provision._reencode import BoundaryGop, reencode_gop
from yakuba.recorder.provision._splice import OrderedWriter, PendingPiece

__all__ = ["CutResult", "Source", "creation_time", "smart_cut"]

SPLICE_TAG = "avc3"
"""ISO/IEC 14496-15 sample entry for H.264 whose parameter sets may change in-band: the re-encoded pieces carry
the encoder's SPS/PPS and each copied piece after them carries the recorder's again, so a decoder (ffmpeg, VLC,
browsers' MSE) switches at each IDR picture instead of decoding one piece with the other's parameters."""

SPLICEABLE_PROFILES = frozenset({66, 77, 88, 100})
"""Baseline, Main, Extended and High: 8-bit 4:2:0 by definition (H.264 A.2), what recorders write and what the
x264 profiles we hold the pieces to can carry; High 10, 4:2:2 and 4:4:4 sources are re-encoded whole."""

OPEN_WITHOUT_DECODING = {"skip_frame": "all"}
"""Opening a file decodes its first pictures to learn the pixel format unless told not to; the avcC record says
all a smart cut needs, and skipping that decode takes three quarters off opening each 1080p segment."""


class Source(Protocol):
    @property
    def path(self) -> Path: ...

    @property
    def sha256(self) -> str: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class CutResult:
    first: dt.datetime
    last: dt.datetime
    frames: int
    copied: int
    fps: Fraction
    sources: tuple[str, ...]
    audio: bool


def creation_time(container: InputContainer) -> dt.datetime:
    text = container.metadata.get("creation_time")
    if not text:
        raise ExportError("a source segment holds no recording time")
    when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _seconds(delta: dt.timedelta) -> Fraction:
    """A timedelta as exact seconds (it counts whole microseconds)."""
    return Fraction((delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds, 1_000_000)


@dataclass(slots=True, kw_only=True)
class _Segment:
    """One source file open for reading, with the window expressed in its own video ticks."""

    vstream: VideoStream
    astream: AudioStream | None
    config: AvcConfig
    start: dt.datetime
    tb: Fraction
    base: int
    lo: int  # first wanted pts (inclusive)
    hi: int  # end of the window in pts (exclusive)
    scale: Fraction = Fraction(1)  # source ticks per output tick (1 unless recorders differ in time base)
    offset: int = 0  # where the segment's first tick lands in the clip, in output ticks
    used: bool = False

    def to_clip(self, ticks: int) -> int:
        """A source presentation or decode time in the clip's ticks."""
        if self.scale == 1:
            return ticks - self.base + self.offset
        return round((ticks - self.base) * self.scale) + self.offset


@dataclass(slots=True, kw_only=True)
class _Cut:
    """The output being written: one video track fed with copied and re-encoded pieces, optionally audio."""

    out: OutputContainer
    start: dt.datetime
    end: dt.datetime
    keep_audio: bool
    progress: Callable[[int], None] | None
    encoder_options: dict[str, str]
    worker: Executor
    writer: OrderedWriter | None = None
    video: VideoStream | None = None
    audio: AudioStream | None = None
    origin: dt.datetime | None = None
    time_base: Fraction = Fraction(1)
    length_size: int = 4
    active_sets: bytes = b""
    first_at: tuple[_Segment, int] | None = None  # the first and last frames written: file and pts
    last_at: tuple[_Segment, int] | None = None
    frames: int = 0
    copied: int = 0
    fps: Fraction = Fraction(0)
    used: list[str] = field(default_factory=list)
    pending_audio: list[Packet[Stream]] = field(default_factory=list)

    # -- per source ----------------------------------------------------------------------------------------

    def add(self, source: Source) -> bool:
        """Write SOURCE's part of the window; False once the window's end has been reached."""
        with av.open(str(source.path), options=OPEN_WITHOUT_DECODING) as container:
            seg = self._open(container)
            if seg is None:
                return True
            gop: list[Packet[Stream]] = []
            reached_end = False
            streams = (seg.vstream,) if seg.astream is None else (seg.vstream, seg.astream)
            for packet in container.demux(*streams):
                if packet.pts is None or packet.dts is None or packet.size == 0:
                    continue
                if packet.stream is not seg.vstream:
                    self._audio(seg, packet)
                elif packet.is_keyframe:
                    if gop:
                        self._gop(seg, gop)
                    gop = [packet]
                    if packet.pts >= seg.hi:  # closed GOPs: nothing from here on is in the window
                        gop, reached_end = [], True
                        break
                elif gop:  # (a seek lands on a keyframe; nothing before one can be decoded anyway)
                    gop.append(packet)
            if gop:
                self._gop(seg, gop)
            if seg.used:
                self.used.append(source.sha256)
            if self.video is None:
                self.pending_audio.clear()  # audio of a file that gave no frame stays out
            return not reached_end

    def _open(self, container: InputContainer) -> _Segment | None:
        if not container.streams.video:
            raise NotSpliceableError("a source segment holds no video")
        vstream = container.streams.video[0]
        ctx = vstream.codec_context
        if ctx.name != "h264":
            raise NotSpliceableError("the source is not H.264")
        config = parse_avcc(ctx.extradata)
        if config.profile_idc not in SPLICEABLE_PROFILES:
            raise NotSpliceableError("the source is not 8-bit 4:2:0 H.264")
        if self.video is not None and (
            config.length_size != self.length_size
            or (ctx.width, ctx.height) != (self.video.codec_context.width, self.video.codec_context.height)
        ):
            raise NotSpliceableError("the picture size or NAL length size changes between source segments")
        seg_start = creation_time(container)
        tb = Fraction(vstream.time_base or Fraction(1, 1))
        base = vstream.start_time or 0
        offset = _seconds(seg_start - self.start)  # where this segment begins, seconds after START
        lo = math.ceil(-offset / tb)
        if self.last_at is not None:  # overlapping files: never show a moment twice
            lo = max(lo, math.floor((self.seconds(self.last_at) - offset) / tb) + 1)
        hi = math.ceil((_seconds(self.end - self.start) - offset) / tb)
        if hi <= lo:
            return None
        astream = container.streams.audio[0] if self.keep_audio and container.streams.audio else None
        seg = _Segment(
            vstream=vstream,
            astream=astream,
            config=config,
            start=seg_start,
            tb=tb,
            base=base,
            lo=lo + base,
            hi=hi + base,
        )
        if lo > 0:
            container.seek(lo + base, stream=vstream, backward=True, any_frame=False)
        if self.video is not None:
            self._place(seg)
        return seg

    def _place(self, seg: _Segment) -> None:
        assert self.origin is not None
        seg.scale = seg.tb / self.time_base
        seg.offset = round(_seconds(seg.start - self.origin) / self.time_base)

    # -- per GOP -------------------------------------------------------------------------------------------

    def _gop(self, seg: _Segment, gop: list[Packet[Stream]]) -> None:
        """Copy the GOP if the window holds all of it, or a decode-order prefix of it (the window's end falls in
        it, and no kept frame needs a later one); otherwise decode it and re-encode the frames in the window."""
        pts = [p.pts or 0 for p in gop]
        wanted = [seg.lo <= t < seg.hi for t in pts]
        if not any(wanted):
            return
        if min(pts) < pts[0]:
            raise NotSpliceableError("open GOPs: pictures before a keyframe refer to the previous GOP")
        kept = wanted.index(False) if False in wanted else len(wanted)
        self._begin(seg, min(t for t, w in zip(pts, wanted, strict=True) if w))
        if kept and not any(wanted[kept:]):
            self._copy(seg, gop[:kept])
        else:
            self._reencode(seg, gop)
        times = [t for t, w in zip(pts, wanted, strict=True) if w]
        self._advance(seg, min(times), max(times), len(times))

    def _begin(self, seg: _Segment, first_pts: int) -> None:
        """At the first frame written: the clip's streams and its origin (creation_time in whole seconds, which is
        all MP4 stores; presentation times count from it so a decoder reads back the actual window)."""
        seg.used = True
        if self.video is not None:
            return
        first = seg.start + dt.timedelta(seconds=float((first_pts - seg.base) * seg.tb))
        self.origin = first.replace(microsecond=0)
        self.out.metadata["creation_time"] = self.origin.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.video = self.out.add_stream_from_template(seg.vstream)
        self.video.codec_context.codec_tag = SPLICE_TAG
        self.time_base = seg.tb
        self.length_size = seg.config.length_size
        self.active_sets = seg.config.parameter_sets()  # what the sample entry's avcC declares
        self.fps = Fraction(seg.vstream.average_rate or seg.vstream.guessed_rate or 25)
        if seg.astream is not None:
            self.audio = self.out.add_stream_from_template(seg.astream)
        self.writer = OrderedWriter(out=self.out, video=self.video, time_base=self.time_base)
        self._place(seg)
        for packet in self.pending_audio:
            self._audio(seg, packet)
        self.pending_audio.clear()

    def seconds(self, at: tuple[_Segment, int]) -> Fraction:
        """When a frame was recorded, in seconds after START."""
        seg, pts = at
        return _seconds(seg.start - self.start) + (pts - seg.base) * seg.tb

    def _advance(self, seg: _Segment, low: int, high: int, count: int) -> None:
        if self.first_at is None:
            self.first_at = (seg, low)
        self.last_at = (seg, high)  # (turned into seconds once per file, not per GOP)
        self.frames += count
        if self.progress is not None:
            self.progress(self.frames)

    # -- the two kinds of piece ----------------------------------------------------------------------------

    def _copy(self, seg: _Segment, packets: list[Packet[Stream]]) -> None:
        """Packets as recorded, re-timed; the recorder's parameter sets go in front of the first one whenever the
        decoder last saw other ones (after a re-encoded piece, or another recorder's segment)."""
        assert self.video is not None
        key = packets[0]
        if NAL_IDR not in nal_types(memoryview(key), seg.config.length_size):
            raise NotSpliceableError("a keyframe that is not an IDR picture cannot start a copied piece")
        sets = seg.config.parameter_sets()
        if sets != self.active_sets:
            with_sets = Packet(sets + bytes(key))
            with_sets.pts, with_sets.dts, with_sets.duration = key.pts, key.dts, key.duration
            with_sets.time_base, with_sets.is_keyframe = key.time_base, True
            packets = [with_sets, *packets[1:]]
            self.active_sets = sets
        if seg.scale == 1:  # the common case, per packet: integers only
            shift = seg.offset - seg.base
            for packet in packets:
                packet.pts += shift  # type: ignore[operator]
                packet.dts += shift  # type: ignore[operator]
                packet.stream = self.video
        else:
            for packet in packets:
                packet.pts, packet.dts = seg.to_clip(packet.pts or 0), seg.to_clip(packet.dts or 0)
                packet.duration = round((packet.duration or 0) * seg.scale)
                packet.time_base = self.time_base
                packet.stream = self.video
        self.copied += len(packets)
        assert self.writer is not None
        self.writer.emit(packets)

    def _reencode(self, seg: _Segment, gop: list[Packet[Stream]]) -> None:
        """Hand the GOP to the worker to re-encode (see `reencode_gop`); its decode times keep the recorder's
        reorder delay (pts - dts of the GOP's keyframe) so they run on into the copied pieces after it."""
        boundary = BoundaryGop(
            packets=gop,
            extradata=seg.vstream.codec_context.extradata or b"",
            config=seg.config,
            time_base=seg.tb,
            fps=self.fps,
            lo=seg.lo,
            hi=seg.hi,
        )
        future = self.worker.submit(reencode_gop, boundary, length_size=self.length_size, options=self.encoder_options)
        delay = (gop[0].pts or 0) - (gop[0].dts or 0)
        self.active_sets = b""  # the decoder will hold the encoder's parameter sets after this piece
        assert self.writer is not None
        self.writer.emit(
            PendingPiece(future=future, to_clip=seg.to_clip, scale=seg.scale, delay=round(delay * seg.scale))
        )

    # -- audio ---------------------------------------------------------------------------------------------

    def _audio(self, seg: _Segment, packet: Packet[Stream]) -> None:
        """Audio packets that start inside the window are copied as recorded (audio kept by the decision)."""
        if self.video is None or self.origin is None:
            self.pending_audio.append(packet)
            return
        if self.audio is None or seg.astream is None or packet.pts is None:
            return
        atb = Fraction(seg.astream.time_base or Fraction(1, 1))
        at = seg.start + dt.timedelta(seconds=float((packet.pts - (seg.astream.start_time or 0)) * atb))
        if not self.start <= at < self.end:
            return
        packet.pts = packet.dts = round(_seconds(at - self.origin) / atb)
        packet.stream = self.audio
        assert self.writer is not None
        self.writer.emit([packet])


def smart_cut(
    *,
    sources: Sequence[Source],
    start: dt.datetime,
    end: dt.datetime,
    out: OutputContainer,
    keep_audio: bool,
    encoder_options: dict[str, str],
    progress: Callable[[int], None] | None = None,
) -> CutResult:
    """Write the frames of [START, END) from SOURCES (in recording order) to OUT, copying every GOP the window
    holds whole and re-encoding only the boundary GOPs.

    1. Each source is read from the keyframe at or before the window (or the last frame already written, when
       files overlap) and grouped into GOPs in decode order.
    2. A GOP wholly inside the window is copied packet for packet, re-timed to the clip; one whose kept frames
       are a decode-order prefix (the window ends in it and nothing kept refers forward) is copied up to there.
    3. Any other GOP holding frames of the window (the one the window starts in; the one it ends in when frames
       are reordered) is decoded from its keyframe and only the frames in the window are re-encoded (x264 held
       to the source's profile and level), so the clip starts and ends on the requested frames.
    4. Parameter sets travel in-band (avc3) wherever the decoder must switch between the encoder's and the
       recorder's; decode times run on across pieces, segments and recorders.
    Raises NotSpliceableError (before or while writing) when the sources cannot be cut this way.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="smartcut") as worker:
        cut = _Cut(
            out=out,
            start=start,
            end=end,
            keep_audio=keep_audio,
            progress=progress,
            encoder_options=encoder_options,
            worker=worker,
        )
        try:
            for source in sources:
                if not cut.add(source):
                    break
            if cut.writer is not None:
                cut.writer.finish()
        finally:
            if cut.writer is not None:
                cut.writer.cancel()
    if cut.video is None or cut.first_at is None or cut.last_at is None:
        raise ExportError("no footage of this vehicle was recorded in the requested window")
    return CutResult(
        first=start + dt.timedelta(seconds=float(cut.seconds(cut.first_at))),
        last=start + dt.timedelta(seconds=float(cut.seconds(cut.last_at))),
        frames=cut.frames,
        copied=cut.copied,
        fps=cut.fps,
        sources=tuple(cut.used),
        audio=cut.audio is not None,
    )
