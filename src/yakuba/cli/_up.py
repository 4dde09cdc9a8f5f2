"""`yakuba up` (every role of a deployment as its own process) and `yakuba serve` (one role instance)."""

from __future__ import annotations

import datetime as dt
import signal
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from yakuba.config import Deployment, find_config, load_deployment

__all__ = ["serve", "up"]

DeploymentDir = Annotated[Path, typer.Argument(help="Deployment folder (holding yakuba.toml) or the TOML file.")]


ClockOffset = Annotated[
    float,
    typer.Option(
        "--clock-offset",
        help="Seconds added to the machine's clock in the role processes (e.g. to run inside service hours); "
        "the clock still runs, timeouts and expiries still pass.",
    ),
]


def serve(
    directory: DeploymentDir,
    instance: Annotated[str, typer.Argument(help="The role instance to run, e.g. center-1.")],
    listen_port: Annotated[
        int | None,
        typer.Option("--listen-port", help="Listen here instead of the configured port (a relay sits there)."),
    ] = None,
    reuse_port: Annotated[
        bool, typer.Option("--reuse-port", help="SO_REUSEPORT: share the port with the instance's other workers.")
    ] = False,
    clock_offset: ClockOffset = 0.0,
) -> None:
    """Run one role instance of the deployment in this process until Ctrl-C or SIGTERM."""
    from yakuba.network.processes import serve_instance

    serve_instance(
        load_deployment(directory),
        instance,
        listen_port=listen_port,
        reuse_port=reuse_port,
        clock_offset=dt.timedelta(seconds=clock_offset),
    )


def up(
    directory: DeploymentDir,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            help="Processes per role instance (kiosks excepted), sharing its port and its database.",
        ),
    ] = 1,
    clock_offset: ClockOffset = 0.0,
    start_timeout: Annotated[
        float,
        typer.Option(
            "--start-timeout",
            min=1,
            help="Seconds every role may take to answer its first health check (a busy or small machine needs more).",
        ),
    ] = 120.0,
) -> None:
    """Start every role of the deployment, and each city's operations console, on 127.0.0.1 as separate
    processes; Ctrl-C stops them all cleanly."""
    from yakuba.network.processes import Supervisor

    console = Console()
    dep = load_deployment(directory)
    supervisor = Supervisor(
        dep=dep,
        config_path=find_config(directory),
        log_dir=dep.state_dir / "logs",
        workers=workers,
        clock_offset=dt.timedelta(seconds=clock_offset),
        consoles=True,
    )
    stop = threading.Event()
    previous_term = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    previous_int = signal.getsignal(signal.SIGINT)
    try:
        supervisor.start()
        with console.status("waiting until every role answers its health check…"):
            supervisor.wait_healthy(timeout=start_timeout)
        table = Table(title=f"deployment {dep.deployment.name}: every role is up")
        for column in ("instance", "role", "pid", "address"):
            table.add_column(column)
        addresses = {cfg.instance: f"{cfg.host}:{cfg.port}" for _, cfg in dep.services()}
        addresses |= {city.console.instance: city.console.base_url for city in dep.cities if city.console}
        for child in supervisor.children:
            table.add_row(child.name, child.kind, str(child.process.pid), addresses[child.instance])
        console.print(table)
        # From here Ctrl-C only asks to stop (a KeyboardInterrupt could land anywhere, even mid-start-up of
        # the sweeper); during start-up it interrupts, and the finally block still stops every child.
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        console.print(f"logs: {dep.state_dir / 'logs'}   (Ctrl-C stops every role)")
        sweeper = threading.Thread(
            target=_sweep_recorder, args=(dep, stop, console), name="recorder-sweep", daemon=True
        )
        sweeper.start()
        stop.wait()
    finally:
        stop.set()
        signal.signal(signal.SIGTERM, previous_term)
        signal.signal(signal.SIGINT, previous_int)
        with console.status("stopping every role…"):
            supervisor.stop()
        console.print("all roles stopped")


def _sweep_recorder(dep: Deployment, stop: threading.Event, console: Console) -> None:
    """The recorder's retention sweep, then a batch of the scrub (full decode and fixity of stored footage),
    every SWEEP_INTERVAL_S while the deployment is up (once the recorder is set up)."""
    from yakuba.errors import YakubaError
    from yakuba.recorder import DATABASE_URL, run_scrub, run_sweep
    from yakuba.recorder._scheduled import SWEEP_INTERVAL_S

    database = Path(dep.database_url(DATABASE_URL).removeprefix("sqlite:///"))
    while True:
        if database.exists():
            try:
                report = run_sweep(dep)
                console.print(f"recorder sweep: {report}")
                scrubbed = run_scrub(dep)
                console.print(
                    f"recorder scrub: {scrubbed.verified} decoded, {scrubbed.failed} failed, {scrubbed.pending} waiting"
                )
            except YakubaError as exc:  # e.g. the half-store guard: the operator must look, nothing is erased
                console.print(f"recorder sweep refused [{exc.code}]: {exc.text_en}", markup=False)
        if stop.wait(SWEEP_INTERVAL_S):
            return
