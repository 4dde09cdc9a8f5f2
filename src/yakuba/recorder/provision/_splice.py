"""Writing a smart cut's pieces in order: copied packets at once, re-encoded ones when the worker has them."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TypeAlias

from av.container import OutputContainer
from av.packet import Packet
from av.stream import Stream
from av.video.stream import VideoStream

from yakuba.recorder.provision._avc import NotSpliceableError
from yakuba.recorder.provision._reencode import Sample

__all__ = ["MAX_QUEUED_BYTES", "OrderedWriter", "PendingPiece"]

MAX_QUEUED_BYTES = 64 * 1024 * 1024
"""Copied packets held back while a boundary GOP is re-encoded beside them: about a minute of 1080p footage at a
recorder's bit rate, so the copying overlaps the encoding without holding a long window in memory."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingPiece:
    """A boundary GOP being re-encoded by the worker, and how to time its samples in the clip: TO_CLIP maps a
    source time to the clip's ticks, SCALE source ticks to clip ticks, DELAY is the recorder's reorder delay."""

    future: Future[list[Sample]]
    to_clip: Callable[[int], int]
    scale: Fraction
    delay: int


Piece: TypeAlias = "list[Packet[Stream]] | PendingPiece"


@dataclass(slots=True, kw_only=True)
class OrderedWriter:
    """The clip's muxer, fed pieces in clip order; video decode times are kept increasing across pieces."""

    out: OutputContainer
    video: VideoStream
    time_base: Fraction
    queue: deque[Piece] = field(default_factory=deque)
    queued_bytes: int = 0
    last_dts: int | None = None

    def emit(self, piece: Piece) -> None:
        """Queue PIECE behind any piece still being re-encoded and write whatever is ready, in order; copying runs
        on while a boundary GOP is encoded, within MAX_QUEUED_BYTES."""
        if not self.queue and isinstance(piece, list):  # nothing being encoded ahead of it
            self._write(piece)
            return
        self.queue.append(piece)
        if isinstance(piece, list):
            self.queued_bytes += sum(p.size for p in piece)
        self._drain(wait=self.queued_bytes > MAX_QUEUED_BYTES)

    def finish(self) -> None:
        """Wait for the worker and write everything still queued."""
        self._drain(wait=True)

    def cancel(self) -> None:
        """After a failure: no queued re-encode starts."""
        for piece in self.queue:
            if isinstance(piece, PendingPiece):
                piece.future.cancel()

    def _drain(self, *, wait: bool) -> None:
        while self.queue:
            head = self.queue[0]
            if isinstance(head, list):
                packets = head
                self.queued_bytes -= sum(p.size for p in packets)
            elif wait or head.future.done():
                packets = self._packets(head)
            else:
                return
            self.queue.popleft()
            self._write(packets)

    def _packets(self, pending: PendingPiece) -> list[Packet[Stream]]:
        packets: list[Packet[Stream]] = []
        for sample in pending.future.result():
            piece = Packet(sample.data)
            piece.pts = pending.to_clip(sample.pts)
            piece.dts = piece.pts - pending.delay
            piece.duration = round(sample.duration * pending.scale)
            piece.time_base, piece.is_keyframe = self.time_base, sample.keyframe
            piece.stream = self.video
            packets.append(piece)
        return packets

    def _write(self, packets: list[Packet[Stream]]) -> None:
        video = self.video
        for packet in packets:
            if packet.stream is video:
                self._mux(packet)
            else:
                self.out.mux_one(packet)

    def _mux(self, packet: Packet[Stream]) -> None:
        """Decode times must increase across pieces. Where a piece with a longer reorder delay follows one with a
        shorter (another recorder's B-frames after P-frames only), its first decode times are moved up one tick
        past the last; a frame can never be decoded after it is shown, so that is the limit."""
        dts, pts = packet.dts, packet.pts
        if dts is None or pts is None:
            raise NotSpliceableError("a packet without decode or presentation time")
        if self.last_dts is not None and dts <= self.last_dts:
            dts = packet.dts = self.last_dts + 1
        if dts > pts:
            raise NotSpliceableError("decode times of the pieces cannot be made to increase")
        self.last_dts = dts
        self.out.mux_one(packet)
