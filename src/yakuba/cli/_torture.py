"""`yakuba torture`: issuances from many kiosks at once through a multi-process deployment with injected faults,
every rule the real incidents broke checked on every transaction, a one-screen verdict; `--duration` soaks."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

__all__ = ["EXIT_VIOLATION", "torture"]

EXIT_VIOLATION = 1
"""Exit code when any rule is violated (2 stays for a refused command, as everywhere)."""


def torture(
    requests: Annotated[int, typer.Option("--requests", min=1, help="Transactions to run (without --duration).")] = 200,
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, help="Kiosks with a resident at the same moment.")
    ] = 8,
    faults: Annotated[str, typer.Option("--faults", help="Fault profile: none, light or full.")] = "full",
    duration: Annotated[
        float | None,
        typer.Option(
            "--duration", min=1, help="Soak: run this many seconds (at --rate) and report memory and fds over time."
        ),
    ] = None,
    rate: Annotated[
        float | None, typer.Option("--rate", min=0.01, help="Transactions started per second (default: flat out).")
    ] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Processes per role instance.")] = 2,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Keep the run here (deployment, logs, printed copies, report.json)."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the town, the traffic and the faults.")] = 2016,
    revoked: Annotated[
        int, typer.Option("--revoked", min=0, help="Lapsed cards' serials added to the JPKI's CRL before the run.")
    ] = 20_000,
    postgres: Annotated[
        str | None,
        typer.Option(
            help="PostgreSQL server (postgresql://127.0.0.1:5432) for the center's and issuers' databases, "
            "created for the run and dropped after it; else SQLite files."
        ),
    ] = None,
) -> None:
    """Torture the issuance chain: two processes per role (center, issuers, ...), many kiosks and cards, faults on
    every link (delays, cut and stalled connections), double submissions, skewed clocks, processes killed and
    restarted mid-run; then check every printed certificate and every record. Exits 1 on any violation.

    The processes run on a clock moved to 10:00 JST of the next weekday (service hours, family registers
    included), so the run works at any time of day; the clock still runs, so every timeout is real.
    """
    from yakuba.torture import TortureOptions, print_verdict, profile_named, run_torture

    console = Console()
    profile = profile_named(faults)
    folder = out if out is not None else Path(tempfile.mkdtemp(prefix="yakuba-torture-"))
    folder.mkdir(parents=True, exist_ok=True)
    options = TortureOptions(
        folder=folder,
        profile=profile,
        requests=None if duration is not None else requests,
        concurrency=concurrency,
        duration_s=duration,
        rate=rate,
        workers=workers,
        seed=seed,
        revoked=revoked,
        postgres=postgres,
        sample_interval_s=2.0 if duration is None else max(2.0, duration / 150),
    )
    report = run_torture(options, console)
    print_verdict(report, console, soak=duration is not None)
    if out is None:
        shutil.rmtree(folder, ignore_errors=True)
    if not report.passed:
        raise typer.Exit(EXIT_VIOLATION)
