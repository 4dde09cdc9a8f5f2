"""The run's clock: the machine's clock moved to a time inside service hours, running at the real rate.

The center refuses issuance outside service hours (06:30-23:00 JST, family registers on weekdays only and not
on national holidays, closed 29 Dec - 3 Jan). A benchmark must run whatever the time of day, so every process
of the run (each role through `Supervisor(clock_offset=...)`, and the kiosk driver) uses one `OffsetClock`: the
wall clock plus one fixed offset that puts the run's start at 10:00 JST on the next open weekday. Durations,
challenge expiries, CRL ages and log timestamps keep their real spacing; only the date and time of day they carry
are moved. The registries and cards are made on the same clock. TLS certificate checks use the real clock
(OpenSSL's own), so the service PKI is unaffected.
"""

from __future__ import annotations

import datetime as dt

from yakuba.clock import OffsetClock, SystemClock
from yakuba.network.sample_town import next_open_weekday

__all__ = ["run_clock"]


def run_clock(now: dt.datetime | None = None) -> OffsetClock:
    """The clock of a run starting at NOW (default: the system clock): 10:00 JST on the next open weekday,
    so the run has 13 hours of service hours ahead of it, whatever kind it asks for."""
    current = now or SystemClock().now()
    return OffsetClock(next_open_weekday(current) - current)
