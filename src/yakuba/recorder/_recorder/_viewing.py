"""The recorder's viewing: a logged, short-lived grant to stream one segment, and the file it opens."""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

from sqlalchemy import Connection

from yakuba.recorder._recorder._base import RecorderBase
from yakuba.recorder.errors import ViewRefusedError
from yakuba.recorder.service import GRANT_TTL, ViewGrant, check_grant, check_view_allowed, grant_digest
from yakuba.recorder.store import SegmentRecord, fetch_grant, fetch_hold, fetch_segment, fetch_staff, insert_grant

__all__ = ["ViewingSteps"]


class ViewingSteps(RecorderBase):
    """Let staff with a basis view one segment at a time; every view and every refusal is audited."""

    # -- viewing ---------------------------------------------------------------------------------------

    def grant_view(self, *, staff_id: str, segment_id: int, basis_hold_id: int, purpose: str) -> str:
        """Log a view and return a short-lived token for streaming this one segment; refusals are logged too."""
        now = self.clock.now()
        token = secrets.token_urlsafe(32)

        def work(conn: Connection) -> None:
            seg = fetch_segment(conn, segment_id)
            check_view_allowed(
                staff=fetch_staff(conn, staff_id),
                segment=seg.times,
                basis=fetch_hold(conn, basis_hold_id),
                purpose=purpose,
                now=now,
            )
            grant = ViewGrant(
                grant_digest=grant_digest(token),
                staff_id=staff_id,
                segment_id=segment_id,
                basis_hold_id=basis_hold_id,
                purpose=purpose,
                expires_at=now + GRANT_TTL,
            )
            insert_grant(conn, grant, now=now)
            self.audit(
                conn,
                "footage.viewed",
                staff_id=staff_id,
                subject=self.subject("segment", seg.sha256),
                fields={
                    "segment_id": segment_id,
                    "basis_hold_id": basis_hold_id,
                    "purpose_sha256": hashlib.sha256(purpose.encode("utf-8")).hexdigest(),
                },
            )

        try:
            self._tx(work, "granting a view")
        except ViewRefusedError:
            self._tx(
                lambda conn: self.audit(
                    conn,
                    "footage.view_refused",
                    staff_id=staff_id,
                    subject=None,
                    fields={"segment_id": segment_id, "basis_hold_id": basis_hold_id},
                ),
                "logging a refused view",
            )
            raise
        return token

    def open_grant(self, *, token: str, segment_id: int) -> Path:
        """The footage file a valid grant TOKEN lets its holder stream; raises ViewGrantError otherwise."""
        with self.engine.connect() as conn:
            check_grant(
                fetch_grant(conn, grant_digest(token)), token=token, segment_id=segment_id, now=self.clock.now()
            )
            seg = fetch_segment(conn, segment_id)
        return self.footage.path_of(seg.sha256)

    def segment(self, segment_id: int) -> SegmentRecord:
        with self.engine.connect() as conn:
            return fetch_segment(conn, segment_id)
