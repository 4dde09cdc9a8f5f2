"""Benchmarks of the whole issuance chain: a deployment on this machine, driven from many kiosks (`yakuba bench
issuance`)."""

from yakuba.bench._ceiling import Ceiling, measure_ceiling
from yakuba.bench._clock import run_clock
from yakuba.bench._cpu import CpuSample, process_cpu_seconds, sample_cpu
from yakuba.bench._driver import Drive, EmulatedCard, KioskFleet, Transaction
from yakuba.bench._run import Settings, run_bench
from yakuba.bench._town import BenchCard, BenchTown, create_town

__all__ = [
    "BenchCard",
    "BenchTown",
    "Ceiling",
    "CpuSample",
    "Drive",
    "EmulatedCard",
    "KioskFleet",
    "Settings",
    "Transaction",
    "create_town",
    "measure_ceiling",
    "process_cpu_seconds",
    "run_bench",
    "run_clock",
    "sample_cpu",
]
