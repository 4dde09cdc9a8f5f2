"""The provision register's persistence (SQLAlchemy Core), created by migrations/versions/0002_provision.py."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Date,
    ForeignKey,
    Integer,
    MetaData,
    RowMapping,
    String,
    Table,
    Text,
    and_,
    func,
    insert,
    select,
    update,
)

from yakuba.database import UtcDateTime
from yakuba.recorder.errors import UnknownRecordError
from yakuba.recorder.provision.service import (
    Decision,
    LegalBasis,
    ProvisionRecord,
    ProvisionStatus,
    RequesterKind,
    RequestWindow,
    ReturnKind,
)
from yakuba.recorder.store import SegmentRecord
from yakuba.recorder.store._schema import segments

__all__ = [
    "count_provisions_in_year",
    "fetch_provision",
    "fetch_provisions",
    "fetch_segments_overlapping",
    "insert_provision",
    "insert_window",
    "provision_windows",
    "provisions",
    "set_window_approval",
    "set_window_hold",
    "update_provision",
]

metadata = MetaData()

provisions = Table(
    "rec_provisions",
    metadata,
    Column("request_no", String(32), primary_key=True),
    Column("form_no", String(64), nullable=False),
    Column("requester_kind", String(24), nullable=False),
    Column("requester_name", Text, nullable=False),
    Column("legal_basis", String(24), nullable=False),
    Column("purpose", Text, nullable=False),
    Column("deadline", Date),
    Column("received_at", UtcDateTime, nullable=False),
    Column("received_by", String(64), nullable=False),
    Column("case_by_case", Boolean, nullable=False),
    Column("status", String(16), nullable=False),
    Column("keep_audio", Boolean, nullable=False),
    Column("blur", Boolean, nullable=False),
    Column("decision", String(16)),
    Column("reasons", Text),
    Column("decided_by", String(64)),
    Column("decided_by_role", String(24)),
    Column("decided_at", UtcDateTime),
    Column("return_due", Date),
    Column("lent_at", UtcDateTime),
    Column("returned_or_destroyed_at", UtcDateTime),
    Column("return_kind", String(16)),
    Column("return_ref", Text),
    Column("export_dir", Text),
    Column("flagged_frames", Integer),
    Column("reviewed_by", String(64)),
    Column("reviewed_at", UtcDateTime),
    Column("closed_at", UtcDateTime),
    Column("closed_by", String(64)),
)

provision_windows = Table(
    "rec_provision_windows",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_no", String(32), ForeignKey("rec_provisions.request_no"), nullable=False),
    Column("vehicle_id", String(16), nullable=False),
    Column("start", UtcDateTime, nullable=False),
    Column("end", UtcDateTime, nullable=False),
    Column("hold_id", Integer),
    Column("approved", Boolean),
)


def count_provisions_in_year(conn: Connection, *, prefix: str) -> int:
    query = select(func.count()).select_from(provisions).where(provisions.c.request_no.like(f"{prefix}%"))
    return int(conn.execute(query).scalar_one())


def insert_provision(conn: Connection, record: ProvisionRecord) -> None:
    conn.execute(
        insert(provisions).values(
            request_no=record.request_no,
            form_no=record.form_no,
            requester_kind=record.requester_kind.value,
            requester_name=record.requester_name,
            legal_basis=record.legal_basis.value,
            purpose=record.purpose,
            deadline=record.deadline,
            received_at=record.received_at,
            received_by=record.received_by,
            case_by_case=record.case_by_case,
            status=record.status.value,
            keep_audio=record.keep_audio,
            blur=record.blur,
        )
    )


def insert_window(conn: Connection, *, request_no: str, window: RequestWindow) -> int:
    result = conn.execute(
        insert(provision_windows).values(
            request_no=request_no, vehicle_id=window.vehicle_id, start=window.start, end=window.end
        )
    )
    return int((result.inserted_primary_key or (0,))[0])


def set_window_hold(conn: Connection, window_id: int, hold_id: int) -> None:
    conn.execute(update(provision_windows).where(provision_windows.c.id == window_id).values(hold_id=hold_id))


def set_window_approval(conn: Connection, *, request_no: str, approved_ids: frozenset[int]) -> None:
    conn.execute(
        update(provision_windows)
        .where(provision_windows.c.request_no == request_no)
        .values(approved=provision_windows.c.id.in_(approved_ids) if approved_ids else False)
    )


def update_provision(conn: Connection, request_no: str, **values: Any) -> None:
    result = conn.execute(update(provisions).where(provisions.c.request_no == request_no).values(**values))
    if not result.rowcount:
        raise UnknownRecordError("no such provision request")


def _windows(conn: Connection, request_nos: list[str]) -> dict[str, list[RequestWindow]]:
    found: dict[str, list[RequestWindow]] = {n: [] for n in request_nos}
    if not request_nos:
        return found
    rows = conn.execute(
        select(provision_windows)
        .where(provision_windows.c.request_no.in_(request_nos))
        .order_by(provision_windows.c.id)
    ).mappings()
    for row in rows:
        found[row["request_no"]].append(
            RequestWindow(
                window_id=row["id"],
                vehicle_id=row["vehicle_id"],
                start=row["start"],
                end=row["end"],
                hold_id=row["hold_id"],
                approved=row["approved"],
            )
        )
    return found


def _record(row: RowMapping, windows: list[RequestWindow]) -> ProvisionRecord:
    return ProvisionRecord(
        request_no=row["request_no"],
        form_no=row["form_no"],
        requester_kind=RequesterKind(row["requester_kind"]),
        requester_name=row["requester_name"],
        legal_basis=LegalBasis(row["legal_basis"]),
        purpose=row["purpose"],
        deadline=row["deadline"],
        received_at=row["received_at"],
        received_by=row["received_by"],
        case_by_case=row["case_by_case"],
        status=ProvisionStatus(row["status"]),
        windows=tuple(windows),
        keep_audio=row["keep_audio"],
        blur=row["blur"],
        decision=None if row["decision"] is None else Decision(row["decision"]),
        reasons=row["reasons"],
        decided_by=row["decided_by"],
        decided_by_role=row["decided_by_role"],
        decided_at=row["decided_at"],
        return_due=row["return_due"],
        lent_at=row["lent_at"],
        returned_or_destroyed_at=row["returned_or_destroyed_at"],
        return_kind=None if row["return_kind"] is None else ReturnKind(row["return_kind"]),
        closed_at=row["closed_at"],
        export_dir=row["export_dir"],
        flagged_frames=row["flagged_frames"],
        reviewed_by=row["reviewed_by"],
    )


def fetch_provision(conn: Connection, request_no: str) -> ProvisionRecord:
    row = conn.execute(select(provisions).where(provisions.c.request_no == request_no)).mappings().first()
    if row is None:
        raise UnknownRecordError("no such provision request")
    return _record(row, _windows(conn, [request_no])[request_no])


def fetch_provisions(conn: Connection, *, since: dt.datetime, until: dt.datetime) -> list[ProvisionRecord]:
    """Requests received in [since, until), oldest first."""
    rows = list(
        conn.execute(
            select(provisions)
            .where(and_(provisions.c.received_at >= since, provisions.c.received_at < until))
            .order_by(provisions.c.received_at, provisions.c.request_no)
        ).mappings()
    )
    windows = _windows(conn, [r["request_no"] for r in rows])
    return [_record(r, windows[r["request_no"]]) for r in rows]


def fetch_segments_overlapping(
    conn: Connection, *, vehicle_id: str, start: dt.datetime, end: dt.datetime
) -> list[SegmentRecord]:
    """The vehicle's segments (loop and event files) overlapping [start, end), in recording order."""
    from yakuba.recorder.store._catalogue import _segment

    rows = conn.execute(
        select(segments)
        .where(
            and_(
                segments.c.vehicle_id == vehicle_id,
                segments.c.start < end,
                segments.c.end > start,
            )
        )
        .order_by(segments.c.start, segments.c.id)
    ).mappings()
    return [_segment(r) for r in rows]
