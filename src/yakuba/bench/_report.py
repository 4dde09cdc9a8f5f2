"""The figures of a run: throughput, latency percentiles, CPU per certificate per role, the ceiling; as JSON
and as a chart (matplotlib, Agg)."""

from __future__ import annotations

import json
import math
import os
import platform
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yakuba.bench._ceiling import Ceiling
from yakuba.bench._driver import Transaction
from yakuba.machine import cpu_model

__all__ = ["Window", "machine", "percentile", "summarise", "write_chart", "write_json"]


def percentile(values: list[float], q: float) -> float:
    """The Q-th percentile (0-100) of VALUES by the nearest-rank method; NaN when there are none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    model = cpu_model()
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "system": platform.platform(),
    }


@dataclass(frozen=True, slots=True)
class Window:
    """The measured part of a run (after the warm-up), in perf_counter seconds."""

    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start


def summarise(
    transactions: list[Transaction],
    *,
    window: Window,
    origin: float,
    cpu_by_role: dict[str, float],
    ceiling: Ceiling | None,
) -> dict[str, Any]:
    """The end-to-end figures of the transactions finished inside WINDOW, the CPU each role spent in it
    (CPU_BY_ROLE, seconds) per certificate, the timeline from ORIGIN, and the ratio to the CEILING."""
    inside = [t for t in transactions if window.start <= t.started + t.latency <= window.end]
    done = [t for t in inside if t.error is None]
    failed = [t for t in inside if t.error is not None]
    latencies = [1000 * t.latency for t in done]
    rate = len(done) / window.seconds if window.seconds > 0 else 0.0
    per_cert = {role: 1000 * seconds / len(done) if done else math.nan for role, seconds in cpu_by_role.items()}
    roles_total = sum(v for k, v in per_cert.items() if k != "kiosk driver")
    timeline = Counter(int(t.started + t.latency - origin) for t in transactions if t.error is None)
    last = max(timeline, default=0)
    figures: dict[str, Any] = {
        "end_to_end": {
            "certificates": len(done),
            "failed": len(failed),
            "errors": dict(Counter(t.error for t in failed)),
            "seconds": round(window.seconds, 3),
            "certificates_per_second": round(rate, 2),
            "latency_ms": {
                "p50": round(percentile(latencies, 50), 1),
                "p95": round(percentile(latencies, 95), 1),
                "p99": round(percentile(latencies, 99), 1),
                "mean": round(sum(latencies) / len(latencies), 1) if latencies else math.nan,
                "max": round(max(latencies), 1) if latencies else math.nan,
            },
            "pages": dict(Counter(str(t.pages) for t in done)),
        },
        "cpu_ms_per_certificate": {role: round(v, 2) for role, v in sorted(per_cert.items())},
        "cpu_ms_per_certificate_all_roles": round(roles_total, 2),
        "certificates_per_core_second": round(1000 / roles_total, 2) if roles_total > 0 else math.nan,
        "timeline_per_second": [timeline.get(second, 0) for second in range(last + 1)],
    }
    if ceiling is not None:
        figures["ceiling"] = {
            "workers": ceiling.workers,
            "documents": ceiling.documents,
            "seconds": round(ceiling.seconds, 3),
            "documents_per_second": round(ceiling.per_second, 2),
            "cpu_ms_per_document": round(ceiling.cpu_ms_per_document, 2),
        }
        figures["ratio_to_ceiling"] = round(rate / ceiling.per_second, 3) if ceiling.per_second else math.nan
        # The same ratio per CPU second: certificates per core-second end to end over documents per core-second
        # alone. Unlike the wall-clock ratio it holds on a machine shared with other work, where the two phases
        # get different shares of the cores.
        figures["ratio_to_ceiling_by_cpu"] = (
            round(ceiling.cpu_ms_per_document / roles_total, 3) if roles_total > 0 else math.nan
        )
    return figures


def write_json(path: Path, result: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, ensure_ascii=False, indent=2, allow_nan=True) + "\n", encoding="utf-8")


def write_chart(path: Path, result: dict[str, Any], latencies_ms: list[float]) -> None:
    """Four panels: certificates per second over the run, the latency distribution with p50/p95/p99, CPU per
    certificate per role, and end to end against the ceiling."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    e2e = result["end_to_end"]
    fig, axes = plt.subplots(2, 2, figsize=(12, 8))
    timeline = result["timeline_per_second"]
    axes[0][0].plot(range(len(timeline)), timeline, drawstyle="steps-post")
    axes[0][0].set(title="certificates per second", xlabel="second of the run", ylabel="certificates")
    if latencies_ms:
        axes[0][1].hist(latencies_ms, bins=50, color="#888")
        for name, style in (("p50", "-"), ("p95", "--"), ("p99", ":")):
            axes[0][1].axvline(
                e2e["latency_ms"][name], color="k", linestyle=style, label=f"{name} {e2e['latency_ms'][name]} ms"
            )
        axes[0][1].legend()
    axes[0][1].set(title="latency: kiosk request to opened envelope", xlabel="ms", ylabel="transactions")
    cpu = result["cpu_ms_per_certificate"]
    axes[1][0].barh(list(cpu), list(cpu.values()), color="#4a7")
    axes[1][0].set(title="CPU ms per certificate", xlabel="ms")
    bars = {"end to end": e2e["certificates_per_second"]}
    if "ceiling" in result:
        bars["documents alone"] = result["ceiling"]["documents_per_second"]
    axes[1][1].bar(list(bars), list(bars.values()), color=["#47a", "#aaa"][: len(bars)])
    axes[1][1].set(title="certificates per second", ylabel="per second")
    settings = result["settings"]
    fig.suptitle(
        f"yakuba bench issuance: {settings['mode']}, {settings['kiosks']} kiosks, {settings['workers']} worker(s) per "
        f"role, {result['machine']['nproc']} cores"
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
