"""CPU time of processes, read from /proc (Linux): what each role spends per certificate."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CpuSample", "process_cpu_seconds", "sample_cpu"]

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of PID, all its threads, from /proc/PID/stat (OSError once it is gone)."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    fields = raw[raw.rindex(")") + 2 :].split()  # after "pid (comm) ": comm may hold spaces and parentheses
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS  # utime and stime: fields 14 and 15 of stat


@dataclass(frozen=True, slots=True)
class CpuSample:
    """CPU seconds of each process at one moment, and the wall time (perf_counter) it was taken."""

    at: float
    seconds: dict[int, float]

    def since(self, earlier: CpuSample) -> dict[int, float]:
        """CPU seconds each process spent between EARLIER and this sample."""
        return {pid: value - earlier.seconds.get(pid, 0.0) for pid, value in self.seconds.items()}


def sample_cpu(pids: Iterable[int]) -> CpuSample:
    """CPU seconds of PIDS now; a process that has gone is left out."""
    seconds: dict[int, float] = {}
    for pid in pids:
        with contextlib.suppress(OSError):
            seconds[pid] = process_cpu_seconds(pid)
    return CpuSample(at=time.perf_counter(), seconds=seconds)
