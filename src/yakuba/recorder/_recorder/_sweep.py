"""The recorder's retention sweep: erase the footage that is due and not held, in audited batches."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from sqlalchemy import Connection

from yakuba.audit import Actor, AuditEntry
from yakuba.recorder._recorder._base import LOG_NAME, RecorderBase
from yakuba.recorder.errors import SweepRefusedError
from yakuba.recorder.service import MAX_SWEEP_SHARE, StaffRole, is_erasable
from yakuba.recorder.store import (
    SegmentRecord,
    bump_retention_epoch,
    count_segments,
    delete_segments,
    fetch_active_holds,
    fetch_segments_due,
    fetch_staff,
)

__all__ = ["SWEEP_BATCH", "SweepReport", "SweepSteps"]

SWEEP_BATCH = 2000
"""Segments erased per transaction: short write locks, and a hold placed meanwhile is seen by the next batch."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SweepReport:
    examined: int
    erased: int
    kept_by_hold: int
    store_size: int


class SweepSteps(RecorderBase):
    """Erase what retention allows, never what a hold keeps, and never half the store unconfirmed."""

    # -- retention sweep -------------------------------------------------------------------------------

    def sweep(self, *, confirmed_by: str | None = None, confirm_count: int | None = None) -> SweepReport:
        """Erase every segment that is due and not held.

        1. Find segments past erase-at (the week rule or a longer lock) and not under a hold.
        2. Refuse if that is more than half of the store (a wrong clock or policy would otherwise wipe the
           evidence); the refusal is audited. A section chief who has looked may let it run by confirming
           the exact count (CONFIRMED_BY, CONFIRM_COUNT): a recorder that stopped recording would otherwise
           keep its last week forever. The confirmation is audited; a wrong count is refused.
        3. Per batch, in one transaction: take the retention lock, re-read holds *now* and re-check each
           segment (stops erasing footage a hold was placed on since step 1), delete the rows, write one
           deletion record per segment (hash, times, rule), erase the files; then commit.
        """
        now = self.clock.now()
        due, erasable, total = self._sweep_candidates(now)  # step 1
        over_half = bool(erasable) and len(erasable) > total * MAX_SWEEP_SHARE
        if over_half and confirmed_by is not None and confirm_count == len(erasable):  # step 2, confirmed

            def confirm(conn: Connection) -> None:
                if fetch_staff(conn, confirmed_by).role is not StaffRole.SECTION_CHIEF:
                    raise SweepRefusedError("only the section chief may confirm a sweep of over half the store")
                self.audit(
                    conn,
                    "retention.sweep_confirmed",
                    staff_id=confirmed_by,
                    subject=None,
                    fields={"due": len(erasable), "store_size": total},
                )

            self._tx(confirm, "confirming a sweep")
        elif over_half:  # step 2
            self._tx(
                lambda conn: self.audit(
                    conn,
                    "retention.sweep_refused",
                    staff_id=None,
                    subject=None,
                    fields={"due": len(erasable), "store_size": total},
                ),
                "logging a refusal",
            )
            raise SweepRefusedError(
                f"the sweep would erase {len(erasable)} of {total} segments; if that is right, the section chief "
                f"confirms it with --confirmed-by STAFF --confirm-count {len(erasable)}"
            )
        erased = 0
        for start in range(0, len(erasable), SWEEP_BATCH):
            batch = erasable[start : start + SWEEP_BATCH]
            erased += self._tx(functools.partial(self._erase_batch, batch=batch, now=now), "sweeping")  # step 3
        return SweepReport(examined=len(due), erased=erased, kept_by_hold=len(due) - len(erasable), store_size=total)

    def sweep_preview(self) -> tuple[int, int]:
        """(segments the next sweep would erase, segments in the store): what a section chief checks before
        confirming a sweep of over half the store."""
        _due, erasable, total = self._sweep_candidates(self.clock.now())
        return len(erasable), total

    def _sweep_candidates(self, now: dt.datetime) -> tuple[list[SegmentRecord], list[SegmentRecord], int]:
        with self.engine.connect() as conn:
            due = fetch_segments_due(conn, now=now)
            total = count_segments(conn)
            holds = fetch_active_holds(conn, now=now)
        return due, [s for s in due if is_erasable(s.times, holds, now=now)], total

    def _erase_batch(self, conn: Connection, *, batch: list[SegmentRecord], now: dt.datetime) -> int:
        bump_retention_epoch(conn)
        holds = fetch_active_holds(conn, now=now)
        doomed = [s for s in batch if is_erasable(s.times, holds, now=now)]
        if not doomed:
            return 0
        delete_segments(conn, [s.segment_id for s in doomed])
        actor = Actor(role="recorder", instance=LOG_NAME)
        self.log.append_many(
            conn,
            [
                AuditEntry(
                    event_type="footage.erased",
                    actor=actor,
                    time=now,
                    subject=self.subject("segment", s.sha256),
                    fields={
                        "sha256": s.sha256,
                        "vehicle": s.vehicle_id,
                        "start": s.start.isoformat(),
                        "end": s.end.isoformat(),
                        "rule": "lock" if s.erase_at == s.retain_until else f"maximum:{s.klass}",
                    },
                )
                for s in doomed
            ],
        )
        for s in doomed:
            self.footage.erase(s.sha256)
            if s.gps_sha256 is not None:  # the location track goes with its footage
                self.footage.erase(s.gps_sha256)
        return len(doomed)
