"""`yakuba up` (every role of a deployment as its own process) and `yakuba serve` (one role instance)."""

from __future__ import annotations

import contextlib
import signal
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from yakuba.config import find_config, load_deployment

__all__ = ["serve", "up"]

DeploymentDir = Annotated[Path, typer.Argument(help="Deployment folder (holding yakuba.toml) or the TOML file.")]


def serve(
    directory: DeploymentDir,
    instance: Annotated[str, typer.Argument(help="The role instance to run, e.g. center-1.")],
) -> None:
    """Run one role instance of the deployment in this process until Ctrl-C or SIGTERM."""
    from yakuba.network.processes import serve_instance

    serve_instance(load_deployment(directory), instance)


def up(directory: DeploymentDir) -> None:
    """Start every role of the deployment on 127.0.0.1 as separate processes; Ctrl-C stops them all cleanly."""
    from yakuba.network.processes import Supervisor

    console = Console()
    dep = load_deployment(directory)
    supervisor = Supervisor(dep=dep, config_path=find_config(directory), log_dir=dep.state_dir / "logs")
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        supervisor.start()
        with console.status("waiting until every role answers its health check…"):
            supervisor.wait_healthy()
        table = Table(title=f"deployment {dep.deployment.name}: every role is up")
        for column in ("instance", "role", "pid", "address"):
            table.add_column(column)
        addresses = {cfg.instance: f"{cfg.host}:{cfg.port}" for _, cfg in dep.services()}
        for instance, role, pid in supervisor.instances:
            table.add_row(instance, role.value, str(pid), addresses[instance])
        console.print(table)
        console.print(f"logs: {dep.state_dir / 'logs'}   (Ctrl-C stops every role)")
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how an operator stops them
            stop.wait()
    finally:
        signal.signal(signal.SIGTERM, previous)
        with console.status("stopping every role…"):
            supervisor.stop()
        console.print("all roles stopped")
