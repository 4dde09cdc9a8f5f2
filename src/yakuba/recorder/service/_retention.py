"""Retention mirroring S3 Object Lock: a floor nobody shortens, a ceiling after which footage is erased, holds."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from yakuba.errors import ValidationError
from yakuba.recorder.errors import RetentionLockedError

__all__ = [
    "DEFAULT_MAXIMUM",
    "MAX_SWEEP_SHARE",
    "MINIMUM_RETENTION",
    "Hold",
    "HoldKind",
    "RetentionPolicy",
    "SegmentTimes",
    "covering_holds",
    "erase_at",
    "extend_retain_until",
    "is_erasable",
]

MINIMUM_RETENTION = dt.timedelta(hours=4)
"""Council rule: footage is kept at least 4 hours, so an incident reported late the same shift is still there."""

DEFAULT_MAXIMUM = dt.timedelta(days=7)
"""Council rule: kept at most about one week, then erased (nobody reviews it daily)."""

MAX_SWEEP_SHARE = 0.5
"""A sweep that would erase more than half of the store at once is refused: that is a wrong clock or policy."""


class HoldKind(enum.StrEnum):
    INCIDENT = "incident"
    POLICE_INQUIRY = "police_inquiry"  # 捜査関係事項照会, CCP art. 197(2)
    PROVISION = "provision"  # external provision decided by the section chief


@dataclass(frozen=True, slots=True, kw_only=True)
class RetentionPolicy:
    """Maximum retention per segment class (data, not code); every class keeps the minimum floor."""

    maximum: Mapping[str, dt.timedelta] = field(
        default_factory=lambda: MappingProxyType({"normal": DEFAULT_MAXIMUM, "event": DEFAULT_MAXIMUM})
    )

    def __post_init__(self) -> None:
        for klass, span in self.maximum.items():
            if span < MINIMUM_RETENTION:
                raise ValidationError(f"the maximum retention of class {klass!r} is below the 4-hour minimum")
        object.__setattr__(self, "maximum", MappingProxyType(dict(self.maximum)))

    def maximum_for(self, klass: str) -> dt.timedelta:
        try:
            return self.maximum[klass]
        except KeyError:
            raise ValidationError(f"no retention rule for segment class {klass!r}") from None


@dataclass(frozen=True, slots=True, kw_only=True)
class SegmentTimes:
    """What retention needs to know of a segment: where and when it was recorded, and its lock."""

    vehicle_id: str
    start: dt.datetime
    end: dt.datetime
    retain_until: dt.datetime
    erase_at: dt.datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Hold:
    """A legal hold over a vehicle's footage in a time window; no end date, lifted only by an explicit release."""

    hold_id: int
    kind: HoldKind
    vehicle_id: str
    window_start: dt.datetime
    window_end: dt.datetime
    released_at: dt.datetime | None = None

    def covers(self, seg: SegmentTimes, *, now: dt.datetime) -> bool:
        active = self.released_at is None or self.released_at > now
        overlaps = seg.start < self.window_end and seg.end > self.window_start
        return active and self.vehicle_id == seg.vehicle_id and overlaps


def erase_at(*, end: dt.datetime, klass: str, policy: RetentionPolicy, retain_until: dt.datetime) -> dt.datetime:
    """When a segment is due: the longest applicable rule wins (the class maximum, or a longer lock)."""
    return max(end + policy.maximum_for(klass), retain_until)


def extend_retain_until(current: dt.datetime, requested: dt.datetime) -> dt.datetime:
    """Compliance mode: a retain-until only moves later; asking for an earlier one raises."""
    if requested < current:
        raise RetentionLockedError()
    return requested


def covering_holds(seg: SegmentTimes, holds: Iterable[Hold], *, now: dt.datetime) -> list[Hold]:
    return [h for h in holds if h.covers(seg, now=now)]


def is_erasable(seg: SegmentTimes, holds: Iterable[Hold], *, now: dt.datetime) -> bool:
    """True only when every rule allows erasing now.

    1. The floor: never before retain-until (recorded + 4 h or later; stops premature loss of evidence).
    2. The ceiling: only once erase-at has passed (the week rule, or a longer lock).
    3. Holds: never while an active hold covers the segment's vehicle and time, however old it is.
    """
    if now < seg.retain_until:  # step 1
        return False
    if now < seg.erase_at:  # step 2
        return False
    return not covering_holds(seg, holds, now=now)  # step 3
