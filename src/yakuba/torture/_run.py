"""`yakuba torture`: a deployment with two processes per role instance, many kiosks and cards at once, faults on
every link and in the processes, then every rule checked on every transaction."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from yakuba.clock import OffsetClock
from yakuba.config import Role, sample_deployment
from yakuba.network.processes import Supervisor
from yakuba.network.run_databases import run_databases
from yakuba.pki import add_lapsed_serials
from yakuba.storehq.delivery import wait_until_reported
from yakuba.torture._checks import CheckReport, check_run, violations_json
from yakuba.torture._deployment import RunDeployment, build_deployment
from yakuba.torture._driver import Attempt, DriveResult, drive
from yakuba.torture._profiles import FaultProfile
from yakuba.torture._proxy import ProxyHost, ProxySpec
from yakuba.torture._soak import ProcessSeries, Sampler
from yakuba.torture._town import TortureCard, make_cards
from yakuba.wire.client import settle_transports

__all__ = ["TortureOptions", "TortureReport", "run_torture"]

RESTART_AT = (0.25, 0.5, 0.75)
"""Fractions of the run at which a process is killed and restarted (profiles with kill_restart)."""

REPORT_WAIT_S = 120.0
"""How long the run waits after driving, every link healthy again, for the store HQs to bring every closed
completion to the center (their outboxes retry with a backoff of at most 30 s). A completion still queued
after that is a violation: with no faults, a fact must reach the center."""

CALM = FaultProfile(name="calm")
"""The proxies' profile while the outboxes drain: bytes passed, nothing injected."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TortureOptions:
    folder: Path
    profile: FaultProfile
    requests: int | None = 200
    concurrency: int = 8
    duration_s: float | None = None
    rate: float | None = None
    workers: int = 2
    seed: int = 2016
    sample_interval_s: float = 2.0
    start_timeout_s: float = 300.0
    """How long the role processes may take to answer their health checks: each imports, loads keys and
    fonts, and on a loaded 2-core machine twenty of them starting at once take minutes."""
    revoked: int = 20_000
    """Lapsed cards' serials added to the JPKI's CRL before the run (yakuba.pki.add_lapsed_serials), so every
    verifier, the center's CRL fetch and the revocations of the run work on a list of some size (a 440 kB CRL
    at 20,000: many reads per fetch), not on the sample's handful."""
    check_processes: int = max(1, min(4, os.cpu_count() or 1))
    postgres: str | None = None
    """A PostgreSQL server (postgresql://host:port) for the center's and the issuers' databases, where their
    worker processes meet as a real deployment's servers do (row locks and transactions of a server database,
    not SQLite's one writer per file); else SQLite files."""


@dataclass(slots=True, kw_only=True)
class TortureReport:
    options: TortureOptions
    drive: DriveResult
    checks: CheckReport
    faults: Counter[str] = field(default_factory=Counter)
    restarts: list[str] = field(default_factory=list)
    series: list[ProcessSeries] = field(default_factory=list)
    setup_s: float = 0.0
    check_s: float = 0.0
    report_wait_s: float = 0.0
    """How long the HQs' outboxes took to drain after driving (faults off)."""
    reports_left: int = 0
    """Closed completions still queued at the HQs when the wait ended (each printed one is a violation)."""
    clock_reads: str = ""
    proxy_pid: int | None = None

    @property
    def passed(self) -> bool:
        return not self.checks.violations


def _per_city_cards(concurrency: int, cities: int) -> int:
    """Each kiosk holds one card during a transaction: half as many again so cards rotate between kiosks."""
    return math.ceil(max(concurrency, 4) * 1.5 / cities) + 4


def run_torture(options: TortureOptions, console: Console) -> TortureReport:
    """Set up, drive, stop, check; the deployment stays in OPTIONS.folder for inspection."""
    # The driver's own log (the kiosks' warnings: ids and codes only) goes to the run's folder, not the screen.
    handler = logging.FileHandler(options.folder / "driver.log", encoding="utf-8")
    logger = logging.getLogger("yakuba")
    saved = (logger.level, logger.propagate)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        with run_databases(options.postgres, sample_deployment(), run="torture") as databases:
            return _run(options, console, databases)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
        handler.close()


def _run(options: TortureOptions, console: Console, databases: dict[str, str]) -> TortureReport:
    began = time.monotonic()
    with console.status("writing the deployment and its PKI…"):
        run = build_deployment(options.folder / "deployment", kiosks=max(options.concurrency, 3), databases=databases)
    clock = OffsetClock(run.clock_offset)
    per_city = _per_city_cards(options.concurrency, len(run.dep.cities))
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("generating the cities and enrolling cards", total=per_city * len(run.dep.cities))
        cards = make_cards(
            run.dep,
            clock=clock,
            residents=max(300, per_city * 5),
            seed=options.seed,
            per_city=per_city,
            on_card=lambda: progress.advance(task),
        )
    if options.revoked:  # after the cards, so none of theirs is listed
        with console.status(f"listing {options.revoked:,} lapsed cards on the JPKI's CRL…"):
            add_lapsed_serials(run.dep, options.revoked, seed=options.seed)
    supervisor = Supervisor(
        dep=run.dep,
        config_path=run.config_path,
        log_dir=run.dep.state_dir / "logs",
        workers=options.workers,
        worker_roles=frozenset({Role.CENTER, Role.ISSUER}),
        roles=frozenset(Role) - {Role.KIOSK},
        listen_ports=run.listen_ports,
        clock_offset=run.clock_offset,
        clock_skew=_skews(run, options),
    )
    report = TortureReport(options=options, drive=DriveResult(attempts=[], seconds=0.0), checks=CheckReport())
    report.clock_reads = f"{clock.now().astimezone(dt.timezone(dt.timedelta(hours=9))):%Y-%m-%d %H:%M} JST"
    sampler = Sampler(lambda: _pids(supervisor, report), interval_s=options.sample_interval_s)
    try:
        supervisor.start()
        with console.status(f"starting {len(supervisor.children)} role processes…"):
            supervisor.wait_healthy(timeout=options.start_timeout_s)
        report.setup_s = time.monotonic() - began
        sampler.start()
        report.drive = asyncio.run(_drive(run, cards, options, supervisor, report, console))
        _wait_for_reports(run, options, report, console)
    finally:
        sampler.stop()
        with console.status("stopping every role process…"):
            supervisor.stop()
    report.series = sampler.series
    check_began = time.monotonic()
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("checking every printed certificate and every record", total=None)
        report.checks = check_run(
            run.dep,
            report.drive,
            processes=options.check_processes,
            on_progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    report.check_s = time.monotonic() - check_began
    (options.folder / "violations.jsonl").write_text(violations_json(report.checks), encoding="utf-8")
    return report


def _proxy_specs(run: RunDeployment) -> list[ProxySpec]:
    return [(instance, proxy_port, listen_port) for _role, instance, proxy_port, listen_port in run.services()]


def _wait_for_reports(run: RunDeployment, options: TortureOptions, report: TortureReport, console: Console) -> None:
    """With the fault proxies stopped, pass bytes through calm ones until every HQ has no closed line left
    for the center (at most REPORT_WAIT_S): the kiosks were answered as soon as their HQ closed the line,
    and the checks read the center's and the issuers' records, which the HQs' batches close."""
    began = time.monotonic()
    calm = ProxyHost(_proxy_specs(run), profile=CALM, seed=options.seed)
    calm.start()
    try:
        with console.status("waiting for the store HQs to report every completion to the center (faults off)…"):
            report.reports_left = asyncio.run(wait_until_reported(run.dep, timeout_s=REPORT_WAIT_S))
    finally:
        calm.stop()
    report.report_wait_s = time.monotonic() - began


def _skews(run: RunDeployment, options: TortureOptions) -> dict[tuple[str, int], dt.timedelta]:
    """One center worker ahead, one issuer worker of each city behind (the last worker: with one worker per
    instance, the only one)."""
    skew = options.profile.clock_skew_s
    if not skew:
        return {}
    last = options.workers - 1
    found = {(run.dep.center.instance, last): dt.timedelta(seconds=skew)}
    for city in run.dep.cities:
        found[(city.issuer_for("juki").instance, last)] = dt.timedelta(seconds=-skew)
    return found


def _pids(supervisor: Supervisor, report: TortureReport) -> dict[str, int]:
    found = {child.name: child.process.pid for child in supervisor.children}
    found["torture-driver"] = os.getpid()
    if report.proxy_pid is not None:
        found["torture-proxies"] = report.proxy_pid
    return found


async def _drive(
    run: RunDeployment,
    cards: list[TortureCard],
    options: TortureOptions,
    supervisor: Supervisor,
    report: TortureReport,
    console: Console,
) -> DriveResult:
    profile = options.profile
    proxies = ProxyHost(_proxy_specs(run), profile=profile, seed=options.seed)
    await asyncio.to_thread(proxies.start)
    report.proxy_pid = proxies.pid
    restarts: list[asyncio.Task[None]] = []
    targets = _restart_targets(run, options) if profile.kill_restart else []
    outcomes: Counter[str] = Counter()
    started = time.monotonic()
    try:
        columns = (
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[counts]}"),
        )
        with Progress(*columns, console=console, transient=True) as progress:
            total = options.requests if options.duration_s is None else None
            task = progress.add_task("issuing", total=total, counts="")

            def on_done(attempt: Attempt) -> None:
                outcomes[attempt.outcome] += 1
                done = sum(outcomes.values())
                progress.update(task, completed=done, counts=" ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
                if options.duration_s is not None:
                    share = (time.monotonic() - started) / options.duration_s
                else:
                    share = done / max(1, options.requests or 1)
                while targets and share >= RESTART_AT[len(RESTART_AT) - len(targets)]:
                    instance, worker = targets.pop(0)
                    restarts.append(
                        asyncio.create_task(_restart(supervisor, instance, worker, report, options.start_timeout_s))
                    )

            result = await drive(
                run,
                cards,
                requests=options.requests if options.duration_s is None else None,
                concurrency=options.concurrency,
                profile=profile,
                seed=options.seed,
                out=options.folder / "printed",
                duration_s=options.duration_s,
                rate=options.rate,
                on_done=on_done,
            )
        for restart in restarts:
            await restart
    finally:
        report.faults.update(await asyncio.to_thread(proxies.stop))
        # The proxies cut what was still open; let this loop see those ends before it closes (see
        # settle_transports: a link cut mid-run leaves the kiosk's side in a TLS shutdown otherwise).
        await settle_transports()
    report.faults["duplicate submissions"] = sum(a.duplicated for a in result.attempts)
    return result


def _restart_targets(run: RunDeployment, options: TortureOptions) -> list[tuple[str, int]]:
    last = options.workers - 1
    cities = run.dep.cities
    return [
        (run.dep.center.instance, 0),
        (cities[0].issuer_for("juki").instance, last),
        (cities[-1].issuer_for("juki").instance, 0),
    ][: len(RESTART_AT)]


async def _restart(supervisor: Supervisor, instance: str, worker: int, report: TortureReport, timeout: float) -> None:
    began = time.monotonic()
    await asyncio.to_thread(supervisor.restart, instance, worker=worker, timeout=timeout)
    report.restarts.append(f"{instance} worker {worker} killed, back in {time.monotonic() - began:.1f} s")
