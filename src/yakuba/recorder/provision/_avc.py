"""H.264 bitstream facts the smart cut needs: the MP4 decoder configuration (avcC), NAL units, IDR pictures."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from yakuba.recorder.errors import ExportError

__all__ = [
    "NAL_IDR",
    "NAL_PPS",
    "NAL_SPS",
    "AvcConfig",
    "NotSpliceableError",
    "annexb_units",
    "length_prefixed",
    "nal_types",
    "parse_avcc",
]

NAL_IDR = 5
NAL_SPS = 7
NAL_PPS = 8

X264_PROFILES = {66: "baseline", 77: "main", 100: "high"}
"""The 8-bit 4:2:0 profiles x264 can be held to; a re-encoded piece must not need more than the source declares."""


class NotSpliceableError(ExportError):
    """The source cannot be cut without re-encoding everything (not H.264 in MP4, open GOPs, a changing picture
    size); the export falls back to re-encoding every frame."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AvcConfig:
    """An AVCDecoderConfigurationRecord (ISO/IEC 14496-15 5.3.3.1): NAL length size and parameter sets."""

    profile_idc: int
    level_idc: int
    length_size: int
    sps: tuple[bytes, ...]
    pps: tuple[bytes, ...]

    @property
    def x264_profile(self) -> str:
        """The x264 profile that stays within the source's (a decoder sized for the source decodes the piece)."""
        return X264_PROFILES.get(self.profile_idc, "high")

    @property
    def x264_level(self) -> str:
        """The source's level as x264 names it (level_idc 9 is level 1b)."""
        return "1b" if self.level_idc == 9 else f"{self.level_idc // 10}.{self.level_idc % 10}"

    def parameter_sets(self) -> bytes:
        """SPS and PPS as length-prefixed NAL units, to carry in-band in front of a copied IDR picture."""
        return b"".join(length_prefixed(unit, self.length_size) for unit in (*self.sps, *self.pps))


def parse_avcc(extradata: bytes | None) -> AvcConfig:
    """Read an avcC record; anything else (Annex B extradata, none at all) cannot be spliced packet by packet."""
    data = extradata or b""
    if len(data) < 7 or data[0] != 1:
        raise NotSpliceableError("the source stream holds no avcC decoder configuration")
    length_size = (data[4] & 0x03) + 1
    pos = 5
    sets: list[list[bytes]] = [[], []]
    for kind in (0, 1):
        if pos >= len(data):
            raise NotSpliceableError("a truncated avcC decoder configuration")
        count = data[pos] & (0x1F if kind == 0 else 0xFF)
        pos += 1
        for _ in range(count):
            size = int.from_bytes(data[pos : pos + 2], "big")
            unit = data[pos + 2 : pos + 2 + size]
            if size == 0 or len(unit) != size:
                raise NotSpliceableError("a truncated avcC decoder configuration")
            sets[kind].append(unit)
            pos += 2 + size
    if not sets[0] or not sets[1] or length_size not in (1, 2, 4):
        raise NotSpliceableError("an avcC decoder configuration without parameter sets")
    return AvcConfig(
        profile_idc=data[1],
        level_idc=data[3],
        length_size=length_size,
        sps=tuple(sets[0]),
        pps=tuple(sets[1]),
    )


def length_prefixed(unit: bytes, size: int) -> bytes:
    return len(unit).to_bytes(size, "big") + unit


def nal_types(sample: memoryview | bytes, length_size: int) -> Iterator[int]:
    """The nal_unit_type of each NAL unit of one MP4 sample (length-prefixed), without copying the sample."""
    pos, total = 0, len(sample)
    while pos + length_size < total:
        size = int.from_bytes(sample[pos : pos + length_size], "big")
        if size == 0 or pos + length_size + size > total:
            raise NotSpliceableError("a sample whose NAL unit lengths do not add up")
        yield sample[pos + length_size] & 0x1F
        pos += length_size + size


def annexb_units(stream: bytes) -> list[bytes]:
    """Split an Annex B byte stream (what x264 writes) into NAL units, dropping start codes and the zero bytes that
    pad between units (a NAL unit never ends in a zero byte: its last byte holds the stop bit)."""
    units: list[bytes] = []
    start = stream.find(b"\x00\x00\x01")
    while start >= 0:
        begin = start + 3
        start = stream.find(b"\x00\x00\x01", begin)
        unit = stream[begin : None if start < 0 else start].rstrip(b"\x00")
        if unit:
            units.append(unit)
    return units
