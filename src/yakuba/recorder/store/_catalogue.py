"""Persistence of the fleet, the segment catalogue, holds, view grants and the retention policy."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, RowMapping, and_, delete, func, insert, select, update

from yakuba.recorder.errors import UnknownRecordError
from yakuba.recorder.service import Fleet, Hold, HoldKind, RetentionPolicy, SegmentTimes, Staff, StaffRole, ViewGrant
from yakuba.recorder.store._schema import (
    holds,
    ingests,
    recorders,
    rejected_files,
    retention_classes,
    retention_lock,
    segments,
    staff,
    vehicles,
    view_grants,
)

__all__ = [
    "SegmentRecord",
    "bump_retention_epoch",
    "count_segments",
    "delete_segments",
    "fetch_active_holds",
    "fetch_grant",
    "fetch_hold",
    "fetch_policy",
    "fetch_segment",
    "fetch_segment_by_sha",
    "fetch_segments_due",
    "fetch_staff",
    "finish_ingest",
    "insert_fleet",
    "insert_grant",
    "insert_hold",
    "insert_rejected_file",
    "insert_segment",
    "release_hold_row",
    "start_ingest",
    "update_retain_until",
    "vehicle_exists",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class SegmentRecord:
    segment_id: int
    sha256: str
    vehicle_id: str
    klass: str
    start: dt.datetime
    end: dt.datetime
    size_bytes: int
    source_name: str
    gps_sha256: str | None
    retain_until: dt.datetime
    erase_at: dt.datetime

    @property
    def times(self) -> SegmentTimes:
        return SegmentTimes(
            vehicle_id=self.vehicle_id,
            start=self.start,
            end=self.end,
            retain_until=self.retain_until,
            erase_at=self.erase_at,
        )


def _segment(row: RowMapping) -> SegmentRecord:
    return SegmentRecord(
        segment_id=row["id"],
        sha256=row["sha256"],
        vehicle_id=row["vehicle_id"],
        klass=row["klass"],
        start=row["start"],
        end=row["end"],
        size_bytes=row["size_bytes"],
        source_name=row["source_name"],
        gps_sha256=row["gps_sha256"],
        retain_until=row["retain_until"],
        erase_at=row["erase_at"],
    )


def _hold(row: RowMapping) -> Hold:
    return Hold(
        hold_id=row["id"],
        kind=HoldKind(row["kind"]),
        vehicle_id=row["vehicle_id"],
        window_start=row["window_start"],
        window_end=row["window_end"],
        released_at=row["released_at"],
    )


def insert_fleet(conn: Connection, fleet: Fleet) -> None:
    conn.execute(
        insert(vehicles),
        [{"vehicle_id": v.vehicle_id, "plate_ref": v.plate_ref, "depot": v.depot} for v in fleet.vehicles],
    )
    conn.execute(
        insert(recorders),
        [
            {
                "serial": r.serial,
                "vehicle_id": r.vehicle_id,
                "model": r.model,
                "mounting": r.mounting,
                "camera_angle_deg": r.camera_angle_deg,
            }
            for r in fleet.recorders
        ],
    )
    conn.execute(insert(staff), [{"staff_id": s.staff_id, "role": s.role.value} for s in fleet.staff])


def vehicle_exists(conn: Connection, vehicle_id: str) -> bool:
    return conn.execute(select(vehicles.c.vehicle_id).where(vehicles.c.vehicle_id == vehicle_id)).first() is not None


def fetch_staff(conn: Connection, staff_id: str) -> Staff:
    role = conn.execute(select(staff.c.role).where(staff.c.staff_id == staff_id)).scalar_one_or_none()
    if role is None:
        raise UnknownRecordError("no such staff member")
    return Staff(staff_id=staff_id, role=StaffRole(role))


def fetch_policy(conn: Connection) -> RetentionPolicy:
    rows = conn.execute(select(retention_classes.c.klass, retention_classes.c.maximum_seconds)).all()
    return RetentionPolicy(maximum={k: dt.timedelta(seconds=s) for k, s in rows})


def start_ingest(conn: Connection, *, vehicle_id: str, card_id: str | None, staff_id: str, now: dt.datetime) -> int:
    result = conn.execute(
        insert(ingests).values(
            vehicle_id=vehicle_id,
            card_id=card_id,
            staff_id=staff_id,
            started_at=now,
            stored=0,
            duplicates=0,
            rejected=0,
        )
    )
    return int((result.inserted_primary_key or (0,))[0])


def finish_ingest(
    conn: Connection, ingest_id: int, *, now: dt.datetime, stored: int, duplicates: int, rejected: int
) -> None:
    conn.execute(
        update(ingests)
        .where(ingests.c.id == ingest_id)
        .values(finished_at=now, stored=stored, duplicates=duplicates, rejected=rejected)
    )


def insert_segment(conn: Connection, *, ingest_id: int, record: SegmentRecord) -> int:
    result = conn.execute(
        insert(segments).values(
            sha256=record.sha256,
            vehicle_id=record.vehicle_id,
            klass=record.klass,
            start=record.start,
            end=record.end,
            size_bytes=record.size_bytes,
            source_name=record.source_name,
            gps_sha256=record.gps_sha256,
            ingest_id=ingest_id,
            retain_until=record.retain_until,
            erase_at=record.erase_at,
        )
    )
    return int((result.inserted_primary_key or (0,))[0])


def insert_rejected_file(
    conn: Connection, *, ingest_id: int, source_name: str, sha256: str, reason: str, kept_at: str
) -> None:
    conn.execute(
        insert(rejected_files).values(
            ingest_id=ingest_id, source_name=source_name, sha256=sha256, reason=reason[:200], kept_at=kept_at
        )
    )


def fetch_segment(conn: Connection, segment_id: int) -> SegmentRecord:
    row = conn.execute(select(segments).where(segments.c.id == segment_id)).mappings().first()
    if row is None:
        raise UnknownRecordError("no such segment")
    return _segment(row)


def fetch_segment_by_sha(conn: Connection, sha256: str) -> SegmentRecord | None:
    row = conn.execute(select(segments).where(segments.c.sha256 == sha256)).mappings().first()
    return None if row is None else _segment(row)


def fetch_segments_due(conn: Connection, *, now: dt.datetime) -> list[SegmentRecord]:
    """Segments whose erase-at has passed (the index on erase_at keeps this cheap on a large catalogue)."""
    rows = conn.execute(select(segments).where(segments.c.erase_at <= now).order_by(segments.c.id)).mappings()
    return [_segment(r) for r in rows]


def count_segments(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(segments)).scalar_one())


def delete_segments(conn: Connection, segment_ids: Sequence[int]) -> int:
    result = conn.execute(delete(segments).where(segments.c.id.in_(segment_ids)))
    return int(result.rowcount)


def update_retain_until(conn: Connection, segment_id: int, *, retain_until: dt.datetime, erase_at: dt.datetime) -> None:
    conn.execute(
        update(segments).where(segments.c.id == segment_id).values(retain_until=retain_until, erase_at=erase_at)
    )


def bump_retention_epoch(conn: Connection) -> None:
    """Write the one retention-lock row first in every hold change and every sweep batch.

    Both then serialise on that row (SQLite's write lock, PostgreSQL's row lock), so a hold placed while a
    sweep runs is either seen by the sweep's re-check or placed after the erasure committed: never lost
    in between.
    """
    conn.execute(update(retention_lock).where(retention_lock.c.id == 1).values(epoch=retention_lock.c.epoch + 1))


def insert_hold(
    conn: Connection,
    *,
    kind: HoldKind,
    vehicle_id: str,
    window_start: dt.datetime,
    window_end: dt.datetime,
    description: str,
    placed_by: str,
    now: dt.datetime,
) -> int:
    result = conn.execute(
        insert(holds).values(
            kind=kind.value,
            vehicle_id=vehicle_id,
            window_start=window_start,
            window_end=window_end,
            description=description,
            placed_by=placed_by,
            placed_at=now,
        )
    )
    return int((result.inserted_primary_key or (0,))[0])


def fetch_hold(conn: Connection, hold_id: int) -> Hold:
    row = conn.execute(select(holds).where(holds.c.id == hold_id)).mappings().first()
    if row is None:
        raise UnknownRecordError("no such incident or hold")
    return _hold(row)


def fetch_active_holds(conn: Connection, *, now: dt.datetime) -> list[Hold]:
    rows = conn.execute(select(holds).where((holds.c.released_at.is_(None)) | (holds.c.released_at > now))).mappings()
    return [_hold(r) for r in rows]


def release_hold_row(conn: Connection, hold_id: int, *, released_by: str, reason: str, now: dt.datetime) -> bool:
    result = conn.execute(
        update(holds)
        .where(and_(holds.c.id == hold_id, holds.c.released_at.is_(None)))
        .values(released_at=now, released_by=released_by, release_reason=reason)
    )
    return bool(result.rowcount)


def insert_grant(conn: Connection, grant: ViewGrant, *, now: dt.datetime) -> None:
    conn.execute(
        insert(view_grants).values(
            digest=grant.grant_digest,
            staff_id=grant.staff_id,
            segment_id=grant.segment_id,
            basis_hold_id=grant.basis_hold_id,
            purpose=grant.purpose,
            created_at=now,
            expires_at=grant.expires_at,
        )
    )


def fetch_grant(conn: Connection, digest: str) -> ViewGrant | None:
    row = conn.execute(select(view_grants).where(view_grants.c.digest == digest)).mappings().first()
    if row is None:
        return None
    return ViewGrant(
        grant_digest=row["digest"],
        staff_id=row["staff_id"],
        segment_id=row["segment_id"],
        basis_hold_id=row["basis_hold_id"],
        purpose=row["purpose"],
        expires_at=row["expires_at"],
    )
