"""The recorder's holds and incidents: place and release holds, extend a segment's retention."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection

from yakuba.errors import ValidationError
from yakuba.recorder._recorder._base import RecorderBase
from yakuba.recorder.errors import HoldReleaseError, UnknownRecordError, ViewRefusedError
from yakuba.recorder.service import VIEWING_ROLES, HoldKind, StaffRole, erase_at, extend_retain_until
from yakuba.recorder.store import (
    bump_retention_epoch,
    fetch_policy,
    fetch_segment,
    fetch_staff,
    insert_hold,
    release_hold_row,
    update_retain_until,
)

__all__ = ["HoldSteps"]


class HoldSteps(RecorderBase):
    """Keep footage past its week: holds placed and lifted, retention extended, each change audited."""

    # -- holds and incidents ---------------------------------------------------------------------------

    def place_hold(
        self,
        *,
        staff_id: str,
        kind: HoldKind,
        vehicle_id: str,
        window_start: dt.datetime,
        window_end: dt.datetime,
        description: str,
    ) -> int:
        """Open an incident, or record a police inquiry or provision, holding the vehicle's footage in the window."""
        if window_end <= window_start:
            raise ValidationError("a hold's window ends after it starts")

        def work(conn: Connection) -> int:
            person = fetch_staff(conn, staff_id)
            if person.role not in VIEWING_ROLES:
                raise ViewRefusedError(f"role {person.role.value} may not place holds")
            bump_retention_epoch(conn)
            hold_id = insert_hold(
                conn,
                kind=kind,
                vehicle_id=vehicle_id,
                window_start=window_start,
                window_end=window_end,
                description=description,
                placed_by=staff_id,
                now=self.clock.now(),
            )
            self.audit(
                conn,
                "hold.placed",
                staff_id=staff_id,
                subject=self.subject("hold", str(hold_id)),
                fields={
                    "hold_id": hold_id,
                    "kind": kind.value,
                    "vehicle": vehicle_id,
                    "window_start": window_start.isoformat(),
                    "window_end": window_end.isoformat(),
                },
            )
            return hold_id

        return self._tx(work, "placing a hold")

    def release_hold(self, *, staff_id: str, hold_id: int, reason: str) -> None:
        """Lift a hold: only explicitly, by the section chief, with a reason; audited."""

        def work(conn: Connection) -> None:
            if fetch_staff(conn, staff_id).role is not StaffRole.SECTION_CHIEF or not reason.strip():
                raise HoldReleaseError()
            bump_retention_epoch(conn)
            if not release_hold_row(conn, hold_id, released_by=staff_id, reason=reason, now=self.clock.now()):
                raise UnknownRecordError("no active hold with this id")
            self.audit(
                conn,
                "hold.released",
                staff_id=staff_id,
                subject=self.subject("hold", str(hold_id)),
                fields={"hold_id": hold_id},
            )

        self._tx(work, "releasing a hold")

    def extend_retention(self, *, staff_id: str, segment_id: int, until: dt.datetime) -> None:
        """Move a segment's retain-until later (never earlier: compliance mode)."""

        def work(conn: Connection) -> None:
            if fetch_staff(conn, staff_id).role not in VIEWING_ROLES:
                raise ViewRefusedError("this role may not change retention")
            seg = fetch_segment(conn, segment_id)
            new_until = extend_retain_until(seg.retain_until, until)
            due = erase_at(end=seg.end, klass=seg.klass, policy=fetch_policy(conn), retain_until=new_until)
            bump_retention_epoch(conn)
            update_retain_until(conn, segment_id, retain_until=new_until, erase_at=due)
            self.audit(
                conn,
                "footage.retention_extended",
                staff_id=staff_id,
                subject=self.subject("segment", seg.sha256),
                fields={"retain_until": new_until.isoformat()},
            )

        self._tx(work, "extending retention")
