"""Injected time: every expiry, retention and service-hour rule takes a Clock, so tests never sleep."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

__all__ = ["JST", "Clock", "FixedClock", "SystemClock"]

JST = dt.timezone(dt.timedelta(hours=9), "JST")


class Clock(Protocol):
    """Source of the current time, always timezone-aware UTC."""

    def now(self) -> dt.datetime: ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


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
