"""Synthetic SD-card dumps as real recorders write them: H.264 MP4 loop and event segments, NMEA sidecars."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import random
from dataclasses import dataclass
from pathlib import Path

import av
from PIL import Image, ImageDraw

from yakuba.clock import JST

__all__ = ["CITY_ROADS", "CardSpec", "make_card"]

CITY_ROADS = (
    ((35.6581, 139.7017), (35.6604, 139.7055), (35.6630, 139.7081), (35.6655, 139.7120)),
    ((35.6702, 139.7026), (35.6683, 139.6990), (35.6650, 139.6961), (35.6621, 139.6930)),
)
"""Waypoints of collection routes in the sample city; tracks follow them at garbage-truck speed."""

TRUCK_SPEED_MPS = 6.0
"""About 20 km/h: a collection round stops and starts."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CardSpec:
    """What to write: SEGMENTS loop files of SEGMENT_SECONDS each from START, and every EVENT_EVERY-th as an event."""

    vehicle_id: str
    start: dt.datetime
    segments: int = 4
    segment_seconds: int = 3
    fps: int = 5
    width: int = 320
    height: int = 180
    event_every: int = 3
    seed: int = 1
    misnamed: int = 1  # how many files carry a name whose time differs from the container (pre-allocated)
    corrupt: int = 1  # how many extra truncated files to leave on the card


def _name(when: dt.datetime, suffix: str) -> str:
    return when.astimezone(JST).strftime("%Y%m%d_%H%M%S") + suffix


def _encode(path: Path, *, spec: CardSpec, start: dt.datetime, seconds: int, tint: tuple[int, int, int]) -> None:
    with av.open(str(path), "w", format="mp4") as out:
        out.metadata["creation_time"] = start.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        stream = out.add_stream("libx264", rate=spec.fps)
        stream.width, stream.height, stream.pix_fmt = spec.width, spec.height, "yuv420p"
        stream.options = {"preset": "ultrafast", "g": str(spec.fps * 2)}
        for n in range(seconds * spec.fps):
            when = start + dt.timedelta(seconds=n / spec.fps)
            image = Image.new("RGB", (spec.width, spec.height), tint)
            draw = ImageDraw.Draw(image)
            draw.rectangle((0, spec.height - 24, spec.width, spec.height), fill=(0, 0, 0))
            stamp = when.astimezone(JST).strftime("%Y/%m/%d %H:%M:%S") + f".{n % spec.fps}  {spec.vehicle_id}"
            draw.text((4, spec.height - 18), stamp, fill=(255, 255, 255))
            draw.ellipse(
                (20 + (n * 7) % (spec.width - 40), 40, 40 + (n * 7) % (spec.width - 40), 60), fill=(200, 200, 40)
            )
            frame = av.VideoFrame.from_image(image)  # type: ignore[no-untyped-call]
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def _nmea(body: str) -> str:
    checksum = 0
    for char in body:
        checksum ^= ord(char)
    return f"${body}*{checksum:02X}\r\n"


def _track(*, start: dt.datetime, seconds: int, road: tuple[tuple[float, float], ...], offset_m: float) -> str:
    lines: list[str] = []
    legs = list(itertools.pairwise(road))
    for sec in range(seconds):
        travelled = offset_m + sec * TRUCK_SPEED_MPS
        lat, lon = road[-1]
        for (lat1, lon1), (lat2, lon2) in legs:
            leg = math.hypot((lat2 - lat1) * 111_000, (lon2 - lon1) * 91_000)
            if travelled <= leg:
                frac = travelled / leg
                lat, lon = lat1 + (lat2 - lat1) * frac, lon1 + (lon2 - lon1) * frac
                break
            travelled -= leg
        when = (start + dt.timedelta(seconds=sec)).astimezone(dt.UTC)
        hms = when.strftime("%H%M%S.00")
        lat_txt = f"{int(lat):02d}{(lat % 1) * 60:07.4f},N"
        lon_txt = f"{int(lon):03d}{(lon % 1) * 60:07.4f},E"
        lines.append(_nmea(f"GPRMC,{hms},A,{lat_txt},{lon_txt},{TRUCK_SPEED_MPS * 1.944:.1f},0.0,{when:%d%m%y},,,A"))
        lines.append(_nmea(f"GPGGA,{hms},{lat_txt},{lon_txt},1,08,0.9,40.0,M,39.0,M,,"))
    return "".join(lines)


def make_card(dest: Path, spec: CardSpec) -> list[Path]:
    """Write a card dump into DEST (`Normal/`, `Event/`, `GPS/`); deterministic for SPEC.seed. Returns the
    video files written (including any deliberately corrupt ones)."""
    rng = random.Random(spec.seed)  # noqa: S311 - synthetic data, deterministic by design
    road = CITY_ROADS[rng.randrange(len(CITY_ROADS))]
    written: list[Path] = []
    for sub in ("Normal", "Event", "GPS"):
        (dest / sub).mkdir(parents=True, exist_ok=True)
    for index in range(spec.segments):
        start = spec.start + dt.timedelta(seconds=index * spec.segment_seconds)
        is_event = spec.event_every > 0 and index % spec.event_every == spec.event_every - 1
        folder, letter = ("Event", "E") if is_event else ("Normal", "N")
        named = start
        if index < spec.misnamed:  # a pre-allocated file renamed later: its name lies about its time
            named = start - dt.timedelta(hours=rng.randrange(1, 48))
        path = dest / folder / _name(named, f"_{letter}F.mp4")
        tint = (rng.randrange(30, 90), rng.randrange(60, 120), rng.randrange(80, 140))
        _encode(path, spec=spec, start=start, seconds=spec.segment_seconds, tint=tint)
        (dest / "GPS" / (path.stem + ".nmea")).write_text(
            _track(start=start, seconds=spec.segment_seconds, road=road, offset_m=index * spec.segment_seconds * 6.0),
            encoding="ascii",
        )
        written.append(path)
    for n in range(spec.corrupt):
        source = written[n % len(written)].read_bytes()
        broken = dest / "Normal" / _name(spec.start + dt.timedelta(days=1, seconds=n), "_NF.mp4")
        broken.write_bytes(source[: len(source) // 2])  # the power was cut while writing
        written.append(broken)
    return written
