"""Injected time: every expiry, retention and service-hour rule takes a Clock, so tests never sleep."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

__all__ = ["JST", "Clock", "FixedClock", "OffsetClock", "SystemClock"]

JST = dt.timezone(dt.timedelta(hours=9), "JST")


class Clock(Protocol):
    """Source of the current time, always timezone-aware UTC."""

    def now(self) -> dt.datetime: ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class OffsetClock:
    """The machine's clock moved by a fixed offset: it runs like the real one (timeouts and expiries still
    pass), but shows another time of day. For runs that must be inside service hours whenever they start
    (`yakuba torture`, `yakuba bench`), and to give one process a skewed clock on purpose."""

    def __init__(self, offset: dt.timedelta) -> None:
        self.offset = offset

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset


class FixedClock:
    """A clock that moves only when told to; for tests and replays."""

    def __init__(self, start: dt.datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._now = start.astimezone(dt.UTC)

    def now(self) -> dt.datetime:
        return self._now

    def advance(self, delta: dt.timedelta) -> None:
        self._now += delta

    def set(self, when: dt.datetime) -> None:
        self._now = when.astimezone(dt.UTC)
