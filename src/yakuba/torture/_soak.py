"""Resident memory and open file descriptors of every process over time, and whether any keeps growing."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["GROWTH_FDS", "GROWTH_RSS_MB", "GROWTH_RSS_SHARE", "ProcessSeries", "Sampler"]

GROWTH_RSS_SHARE = 0.25
"""A process whose resident memory in the last quarter of the run is this share above the first quarter's
(after the warm-up) and GROWTH_RSS_MB more is reported as growing."""
GROWTH_RSS_MB = 20.0
GROWTH_FDS = 20
"""Open descriptors more at the end than at the start (after the warm-up) that count as growing."""
WARM_UP_SHARE = 0.2
"""The first fifth of the samples is start-up (caches, pools, fonts): not compared."""


@dataclass(slots=True, kw_only=True)
class ProcessSeries:
    """One process's samples: (seconds since start, RSS in MB, open fds)."""

    name: str
    pid: int
    samples: list[tuple[float, float, int]] = field(default_factory=list)

    def _windows(self) -> tuple[list[tuple[float, float, int]], list[tuple[float, float, int]]]:
        usable = self.samples[int(len(self.samples) * WARM_UP_SHARE) :]
        quarter = max(1, len(usable) // 4)
        return usable[:quarter], usable[-quarter:]

    @property
    def rss_first_last(self) -> tuple[float, float]:
        first, last = self._windows()
        return sum(s[1] for s in first) / len(first), sum(s[1] for s in last) / len(last)

    @property
    def fds_first_last(self) -> tuple[int, int]:
        first, last = self._windows()
        return max(s[2] for s in first), max(s[2] for s in last)

    @property
    def peak_rss(self) -> float:
        return max(s[1] for s in self.samples)

    @property
    def growing(self) -> bool:
        if len(self.samples) < 8:
            return False
        start, end = self.rss_first_last
        fds_start, fds_end = self.fds_first_last
        rss_grows = end - start > max(GROWTH_RSS_MB, start * GROWTH_RSS_SHARE)
        return rss_grows or fds_end - fds_start > GROWTH_FDS


def _read(pid: int) -> tuple[float, int] | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        fds = len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024, fds
    return None


class Sampler:
    """Samples every INTERVAL_S the processes PROCESSES() names (name -> pid) until stopped, in a thread.

    A process restarted mid-run (a new pid under its name) starts a new series; the old one is kept.
    """

    def __init__(self, processes: Callable[[], dict[str, int]], *, interval_s: float) -> None:
        self._processes = processes
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="torture-sampler", daemon=True)
        self.series: list[ProcessSeries] = []
        self._current: dict[str, ProcessSeries] = {}
        self._started = time.monotonic()

    def start(self) -> None:
        self._started = time.monotonic()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self._interval)

    def sample(self) -> None:
        now = time.monotonic() - self._started
        for name, pid in self._processes().items():
            series = self._current.get(name)
            if series is None or series.pid != pid:
                series = ProcessSeries(name=name, pid=pid)
                self._current[name] = series
                self.series.append(series)
            read = _read(pid)
            if read is not None:
                series.samples.append((now, read[0], read[1]))
