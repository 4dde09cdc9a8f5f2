"""Persistence of each segment's verification level: what the scrub still has to decode, and what failed."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from sqlalchemy import Connection, RowMapping, func, select, update

from yakuba.recorder.store._schema import segments

__all__ = [
    "ScrubTarget",
    "VerifyLevel",
    "count_by_level",
    "fetch_failed_segments",
    "fetch_scrub_targets",
    "mark_segment_verified",
]


class VerifyLevel(enum.StrEnum):
    """How far a catalogued segment has been verified (rec_segments.verified)."""

    STRUCTURE = (
        "structure"  # at ingest: index, every sample's size, NAL units, timestamps; first keyframe, last GOP decoded
    )
    FULL = "full"  # by the scrub: every frame decoded, no error concealed
    FAILED = "failed"  # the scrub found frames that do not decode: flagged, a copy kept aside, retention unchanged


@dataclass(frozen=True, slots=True, kw_only=True)
class ScrubTarget:
    segment_id: int
    sha256: str
    vehicle_id: str
    start: dt.datetime
    end: dt.datetime
    source_name: str
    verified: VerifyLevel
    verified_at: dt.datetime | None
    verify_error: str | None


def _target(mapping: RowMapping) -> ScrubTarget:
    return ScrubTarget(
        segment_id=mapping["id"],
        sha256=mapping["sha256"],
        vehicle_id=mapping["vehicle_id"],
        start=mapping["start"],
        end=mapping["end"],
        source_name=mapping["source_name"],
        verified=VerifyLevel(mapping["verified"]),
        verified_at=mapping["verified_at"],
        verify_error=mapping["verify_error"],
    )


_COLUMNS = (
    segments.c.id,
    segments.c.sha256,
    segments.c.vehicle_id,
    segments.c.start,
    segments.c.end,
    segments.c.source_name,
    segments.c.verified,
    segments.c.verified_at,
    segments.c.verify_error,
)


def fetch_scrub_targets(conn: Connection, *, limit: int | None = None) -> list[ScrubTarget]:
    """Segments only structurally checked so far, oldest catalogued first (the index on verified, id)."""
    query = select(*_COLUMNS).where(segments.c.verified == VerifyLevel.STRUCTURE).order_by(segments.c.id)
    if limit is not None:
        query = query.limit(limit)
    return [_target(r) for r in conn.execute(query).mappings()]


def fetch_failed_segments(conn: Connection) -> list[ScrubTarget]:
    query = select(*_COLUMNS).where(segments.c.verified == VerifyLevel.FAILED).order_by(segments.c.id)
    return [_target(r) for r in conn.execute(query).mappings()]


def mark_segment_verified(
    conn: Connection, segment_id: int, *, level: VerifyLevel, at: dt.datetime, error: str | None = None
) -> bool:
    """Record a scrub result; False when the segment is gone (erased by a sweep meanwhile)."""
    result = conn.execute(
        update(segments)
        .where(segments.c.id == segment_id)
        .values(verified=level.value, verified_at=at, verify_error=None if error is None else error[:200])
    )
    return bool(result.rowcount)


def count_by_level(conn: Connection) -> dict[str, int]:
    rows = conn.execute(select(segments.c.verified, func.count()).group_by(segments.c.verified)).all()
    return {str(level): int(n) for level, n in rows}
