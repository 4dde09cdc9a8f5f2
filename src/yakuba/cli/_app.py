"""The Typer application and its sub-commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from yakuba.config import BASE_PORT, write_sample

__all__ = ["app"]

app = typer.Typer(
    name="yakuba",
    help="yakuba (役場): certificate issuance, drive-recorder footage and the council's checks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DeploymentDir = Annotated[Path, typer.Argument(help="Deployment folder (holding yakuba.toml) or the TOML file.")]


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Folder to create the sample deployment in.")],
    base_port: Annotated[
        int,
        typer.Option(
            help="First loopback port; the sample's 15 instances and 2 city consoles take the ports after it.", min=1024
        ),
    ] = BASE_PORT,
) -> None:
    """Write a complete sample deployment (yakuba.toml + state folder with its PKI) into DIRECTORY."""
    from yakuba.pki import init_pki

    console = Console()
    dep = write_sample(directory, base_port=base_port)
    summary = init_pki(dep)
    console.print(f"[green]deployment written[/green] {directory / 'yakuba.toml'}")
    console.print(f"PKI: {summary}")


bench_app = typer.Typer(
    name="bench",
    help="Benchmarks: measured on this machine, reported with the machine and as ratios to a baseline.",
    no_args_is_help=True,
)


def _register_subcommands() -> None:
    from yakuba.cli import (
        _audit,
        _bench_audit,
        _bench_documents,
        _bench_issuance,
        _bench_provision,
        _bench_recorder,
        _card,
        _center,
        _console,
        _council,
        _demo,
        _kiosk,
        _pki,
        _recorder,
        _registry,
        _torture,
        _up,
        _verify,
    )

    app.add_typer(_pki.app, name="pki")
    app.add_typer(_registry.app, name="registry")
    app.add_typer(_card.app, name="card")
    app.add_typer(_audit.app, name="audit")
    app.add_typer(_kiosk.app, name="kiosk")
    app.add_typer(_recorder.app, name="recorder")
    app.add_typer(_council.app, name="council")
    app.add_typer(_center.app, name="center")
    app.add_typer(_console.app, name="console")
    app.command(name="verify")(_verify.verify)
    app.command(name="demo")(_demo.demo)
    app.command(name="up")(_up.up)
    app.command(name="serve")(_up.serve)
    app.command(name="torture")(_torture.torture)
    bench_app.command(name="documents")(_bench_documents.bench_documents)
    bench_app.command(name="issuance")(_bench_issuance.bench_issuance)
    bench_app.command(name="audit")(_bench_audit.bench_audit)
    bench_app.command(name="recorder")(_bench_recorder.bench_recorder)
    bench_app.command(name="provision")(_bench_provision.bench_provision)
    app.add_typer(bench_app, name="bench")


_register_subcommands()
