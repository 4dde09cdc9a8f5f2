"""One benchmark run: a deployment in a temporary folder, every role as processes, the kiosks driven from here,
the CPU every process spent, the ceiling, a sample of the documents verified as a kiosk verifies them."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from yakuba.bench._ceiling import measure_ceiling
from yakuba.bench._clock import run_clock
from yakuba.bench._cpu import CpuSample, sample_cpu
from yakuba.bench._driver import Drive, EmulatedCard, KioskFleet
from yakuba.bench._report import Window, machine, summarise, write_chart, write_json
from yakuba.bench._town import BenchTown, create_town
from yakuba.clock import JST, OffsetClock
from yakuba.config import Role, sample_deployment
from yakuba.network.run_databases import run_databases

__all__ = ["Settings", "run_bench"]

START_TIMEOUT_S = 180.0
"""How long every role may take to answer its health check: `yakuba up`'s 60 s is too short for 22 processes
starting at once (2 workers) on a busy 2-core machine."""

DRIVER = "kiosk driver"
"""The CPU of this process: the kiosks' side, not the central system's."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    duration: float = 60.0
    warmup: float = 5.0
    rate: float | None = None
    """Arrivals per second; None drives every kiosk back to back (flat out)."""
    kiosks: int = 16
    workers: int = 1
    cards: int = 64
    residents: int = 600
    ceiling_seconds: float = 10.0
    verify_every: int = 200
    """One document in this many is verified as the kiosk verifies it, after the run (at least one)."""
    postgres: str | None = None
    """A PostgreSQL server (postgresql://host:port) for the center's and the issuers' databases; else SQLite."""
    revoked: int = 100_000
    """Serials added to the JPKI's CRL before the run (yakuba.pki.add_lapsed_serials): the national list of
    lapsed user-authentication certificates is long, and every verifier looks each card up in it."""
    profile: bool = False
    """Sample every role process with py-spy during the run (collapsed stacks in OUT/profiles/)."""


def run_bench(settings: Settings, *, out: Path, console: Console) -> dict[str, Any]:
    """Run the benchmark; write OUT/issuance.json and OUT/issuance.png; return the figures."""
    clock = run_clock()
    started = clock.now()
    load_before = os.getloadavg()
    with (
        tempfile.TemporaryDirectory(prefix="yakuba-bench-") as tmp,
        run_databases(settings.postgres, sample_deployment(), run="bench") as databases,
    ):
        folder = Path(tmp)
        with console.status("preparing the deployment…") as status:
            town = create_town(
                folder / "deployment",
                kiosks=settings.kiosks,
                cards=max(settings.cards, settings.kiosks),
                residents=settings.residents,
                clock=clock,
                databases=databases,
                revoked=settings.revoked,
                step=lambda text: status.update(f"{text}…"),
            )
        drive, window, origin, cpu, pids, refused, queued = _drive_deployment(town, settings, clock, out, console)
        with console.status(f"verifying {len(drive.documents)} sampled documents as a kiosk does…"):
            verified = _verify(town, drive.documents)
        ceiling = None
        if settings.ceiling_seconds > 0:
            with console.status(f"measuring the document pipeline alone for {settings.ceiling_seconds:.0f} s…"):
                ceiling = measure_ceiling(town.config_path, town.dep.cities[0].code, seconds=settings.ceiling_seconds)
    figures = summarise(drive.transactions, window=window, origin=origin, cpu_by_role=cpu, ceiling=ceiling)
    result: dict[str, Any] = {
        "machine": {**machine(), "load_average_before": load_before, "load_average_after": os.getloadavg()},
        "settings": {
            **asdict(settings),
            "mode": "flat out" if settings.rate is None else f"{settings.rate:g}/s",
            "run_clock_start": started.astimezone(JST).isoformat(timespec="seconds"),
            "clock_offset_s": round(clock.offset.total_seconds(), 3),
        },
        **figures,
        "waited_for_kiosk": drive.waited_for_kiosk,
        "arrivals_not_started": drive.not_started,
        "cards_put_aside": refused,
        # Completions the HQs had closed but not yet brought to the center when the driving ended: their CPU
        # would fall after the window. A handful is the batch on the line; a growing pile would mean the
        # outboxes fall behind and the throughput above is flattered.
        "completions_queued_at_end": queued,
        "verified_documents": verified,
        "processes": pids,
    }
    latencies = [
        1000 * t.latency
        for t in drive.transactions
        if t.error is None and window.start <= t.started + t.latency <= window.end
    ]
    write_json(out / "issuance.json", result)
    write_chart(out / "issuance.png", result, latencies)
    return result


def _drive_deployment(
    town: BenchTown, settings: Settings, clock: OffsetClock, out: Path, console: Console
) -> tuple[Drive, Window, float, dict[str, float], list[dict[str, Any]], dict[str, int], int]:
    from yakuba.network.processes import Supervisor
    from yakuba.storehq import count_unreported

    supervisor = Supervisor(
        dep=town.dep,
        config_path=town.config_path,
        log_dir=out / "logs",
        workers=settings.workers,
        roles=frozenset(Role) - {Role.KIOSK},
        clock_offset=clock.offset,
    )
    try:
        with console.status("starting every role (issuers load fonts and keys)…"):
            supervisor.start()
            supervisor.wait_healthy(timeout=START_TIMEOUT_S)
        with console.status(f"checking the PIN of {len(town.cards)} cards…"):
            cards = [EmulatedCard.insert(town, card) for card in town.cards]
        roles = {child.process.pid: (child.instance, child.kind, child.worker) for child in supervisor.children}
        names = {pid: f"{instance}.w{worker}" for pid, (instance, _role, worker) in roles.items()}
        drive, window, origin, start, end, refused = _run_loop(
            _drive(town, cards, settings, clock, names, out, console)
        )
        queued = count_unreported(town.dep)
    finally:
        with console.status("stopping every role…"):
            supervisor.stop()
    spent = end.since(start)
    by_role: dict[str, float] = {}
    processes = []
    for pid, seconds in spent.items():
        if pid == os.getpid():
            by_role[DRIVER] = seconds
            continue
        instance, role, worker = roles[pid]
        by_role[role] = by_role.get(role, 0.0) + seconds
        processes.append({"instance": instance, "role": role, "worker": worker, "cpu_s": round(seconds, 3)})
    return drive, window, origin, by_role, processes, refused, queued


def _raise_priority() -> None:
    """In a sampler, before exec: run ahead of the roles it samples, or on a busy machine it gets so little CPU
    that it takes a fraction of its samples (needs root; otherwise it keeps the normal priority)."""
    with contextlib.suppress(OSError):
        os.nice(-10)


def _run_loop(coroutine: Any) -> Any:
    """Run the driver on uvloop when it is installed (as uvicorn's standard extra brings it)."""
    try:
        import uvloop

        factory = uvloop.new_event_loop
    except ImportError:  # pragma: no cover - uvicorn[standard] installs it
        factory = None
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(coroutine)


async def _drive(
    town: BenchTown,
    cards: list[EmulatedCard],
    settings: Settings,
    clock: OffsetClock,
    names: dict[int, str],
    out: Path,
    console: Console,
) -> tuple[Drive, Window, float, CpuSample, CpuSample, dict[str, int]]:
    watched = [*names, os.getpid()]
    total = settings.warmup + settings.duration
    async with KioskFleet.open(
        town, cards, kiosks=settings.kiosks, clock=clock, verify_every=settings.verify_every
    ) as fleet:
        with console.status("one transaction with every card (cards refused now are put aside)…"):
            refused = await fleet.probe()
        profilers = _start_profilers(names, seconds=total, folder=out / "profiles") if settings.profile else []
        with Progress(
            TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console, transient=True
        ) as progress:
            task = progress.add_task("warming up", total=total)
            origin = time.perf_counter()
            marks: dict[str, CpuSample] = {}

            def tick(drive: Drive) -> None:
                elapsed = time.perf_counter() - origin
                if "start" not in marks and elapsed >= settings.warmup:
                    marks["start"] = sample_cpu(watched)
                recent = sum(
                    1 for t in drive.transactions if t.error is None and t.started + t.latency > time.perf_counter() - 5
                )
                failed = sum(1 for t in drive.transactions if t.error is not None)
                phase = "warming up" if elapsed < settings.warmup else "measuring"
                progress.update(
                    task,
                    completed=min(elapsed, total),
                    description=f"{phase}: {len(drive.transactions) - failed} issued, {failed} failed, "
                    f"{recent / 5:.0f}/s now",
                )

            drive = await fleet.run(duration=total, rate=settings.rate, tick=tick)
            end = sample_cpu(watched)
    for profiler in profilers:
        await asyncio.to_thread(profiler.wait)
    start = marks.get("start") or sample_cpu(watched)
    return drive, Window(start=start.at, end=end.at), origin, start, end, refused


def _start_profilers(names: dict[int, str], *, seconds: float, folder: Path) -> list[subprocess.Popen[bytes]]:
    """One `py-spy record` per role process for SECONDS, without pausing it (--nonblocking), writing collapsed
    stacks (flamegraph.pl and speedscope read them) to FOLDER/<instance>.w<worker>.txt."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    folder.mkdir(parents=True, exist_ok=True)
    return [
        subprocess.Popen(
            [
                spy,
                "record",
                "--pid",
                str(pid),
                "--duration",
                str(math.ceil(seconds)),
                "--rate",
                "200",
                "--nonblocking",
                "--format",
                "raw",
                "--output",
                str(folder / f"{name}.txt"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            preexec_fn=_raise_priority,
        )
        for pid, name in names.items()
    ]


def _verify(town: BenchTown, documents: list[bytes]) -> dict[str, int]:
    """Verify the sampled documents as the kiosk does (signature and chain, signed QR, required elements)."""
    from yakuba.documents import DocumentTrust, verify_document
    from yakuba.errors import YakubaError

    trust = DocumentTrust.from_key_dir(town.dep.key_dir)
    ok = 0
    for document in documents:
        try:
            verify_document(document, trust=trust)
        except YakubaError:
            continue
        ok += 1
    return {"sampled": len(documents), "valid": ok}
