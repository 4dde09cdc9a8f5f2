"""Who may view footage, on what basis, for what purpose; and the short-lived grant a view hands out."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

from yakuba.recorder.errors import ViewGrantError, ViewRefusedError
from yakuba.recorder.service._fleet import VIEWING_ROLES, Staff
from yakuba.recorder.service._retention import Hold, SegmentTimes

__all__ = [
    "GRANT_TTL",
    "MIN_PURPOSE_CHARS",
    "ViewGrant",
    "check_grant",
    "check_view_allowed",
    "grant_digest",
]

GRANT_TTL = dt.timedelta(minutes=15)
"""A view grant lasts one viewing session; a leaked link is useless soon after."""

MIN_PURPOSE_CHARS = 4
"""A purpose is a stated reason, not a blank or a single character."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ViewGrant:
    """What a grant token stands for; the token itself is handed out once and stored only as a digest."""

    grant_digest: str
    staff_id: str
    segment_id: int
    basis_hold_id: int
    purpose: str
    expires_at: dt.datetime


def grant_digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def check_view_allowed(*, staff: Staff, segment: SegmentTimes, basis: Hold, purpose: str, now: dt.datetime) -> None:
    """Raise ViewRefusedError unless this person may view this segment now.

    1. The role: supervisors, records officers and the section chief only; drivers never (council rule).
    2. The basis: an incident or request (a hold) that is active and covers the segment's vehicle and time
       (stops browsing footage outside what the incident is about).
    3. The purpose: stated in words.
    """
    if staff.role not in VIEWING_ROLES:  # step 1
        raise ViewRefusedError(f"role {staff.role.value} may not view footage", ja="この職務では映像を閲覧できません。")
    if not basis.covers(segment, now=now):  # step 2
        raise ViewRefusedError("the incident or request does not cover this segment")
    if len(purpose.strip()) < MIN_PURPOSE_CHARS:  # step 3
        raise ViewRefusedError("a purpose must be stated", ja="閲覧の目的を記入してください。")


def check_grant(grant: ViewGrant | None, *, token: str, segment_id: int, now: dt.datetime) -> ViewGrant:
    """The grant for TOKEN if it is valid for SEGMENT_ID now; raises ViewGrantError otherwise."""
    if grant is None or not hmac.compare_digest(grant.grant_digest, grant_digest(token)):
        raise ViewGrantError()
    if grant.segment_id != segment_id or now >= grant.expires_at:
        raise ViewGrantError()
    return grant
