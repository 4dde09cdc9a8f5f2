"""A provision request's holds: placed over each window when it is registered, released when it is closed."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection

from yakuba.recorder._recorder import Recorder
from yakuba.recorder.provision._records import _iso
from yakuba.recorder.provision.service import ProvisionRecord, RequestWindow
from yakuba.recorder.provision.store import insert_window, set_window_hold
from yakuba.recorder.service import HoldKind
from yakuba.recorder.store import insert_hold, release_hold_row

__all__ = ["hold_window", "release_holds"]


def hold_window(
    recorder: Recorder, conn: Connection, *, request_no: str, window: RequestWindow, staff_id: str, now: dt.datetime
) -> None:
    """Record WINDOW of the request and place a hold of kind PROVISION over it, audited as any hold is."""
    window_id = insert_window(conn, request_no=request_no, window=window)
    hold_id = insert_hold(
        conn,
        kind=HoldKind.PROVISION,
        vehicle_id=window.vehicle_id,
        window_start=window.start,
        window_end=window.end,
        description=f"provision request {request_no}",
        placed_by=staff_id,
        now=now,
    )
    set_window_hold(conn, window_id, hold_id)
    recorder.audit(
        conn,
        "hold.placed",
        staff_id=staff_id,
        subject=recorder.subject("hold", str(hold_id)),
        fields={
            "hold_id": hold_id,
            "kind": HoldKind.PROVISION.value,
            "vehicle": window.vehicle_id,
            "window_start": _iso(window.start),
            "window_end": _iso(window.end),
        },
    )


def release_holds(
    recorder: Recorder, conn: Connection, record: ProvisionRecord, *, staff_id: str, reason: str, now: dt.datetime
) -> int:
    """Release the holds still placed over RECORD's windows, each audited; returns how many were released."""
    released = 0
    for w in record.windows:
        if w.hold_id is not None and release_hold_row(conn, w.hold_id, released_by=staff_id, reason=reason, now=now):
            released += 1
            recorder.audit(
                conn,
                "hold.released",
                staff_id=staff_id,
                subject=recorder.subject("hold", str(w.hold_id)),
                fields={"hold_id": w.hold_id},
            )
    return released
