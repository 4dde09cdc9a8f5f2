"""`yakuba council ...`: the council's conditions checked live, and the report for its meeting."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from yakuba.clock import SystemClock
from yakuba.config import load_deployment
from yakuba.council import sample_record
from yakuba.council.report import Period, build_report, write_report
from yakuba.recorder import Recorder

__all__ = ["app"]

app = typer.Typer(
    name="council",
    help="The privacy council: live checks of its conditions and its report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()

DeploymentOpt = Annotated[Path, typer.Option("--deployment", "-d", help="Deployment folder (or its yakuba.toml).")]


@app.command("report")
def report(
    period: Annotated[str, typer.Option("--period", help="YYYY-MM or YYYY-MM..YYYY-MM")],
    deployment: DeploymentOpt = Path("."),
    out: Annotated[Path, typer.Option("--out", help="Folder for the PDF and the HTML page.")] = Path("."),
) -> None:
    """Check every condition against the running deployment and write the council's report (PDF and HTML)."""
    dep = load_deployment(deployment)
    clock = SystemClock()
    recorder = Recorder.from_deployment(dep, clock=clock)
    built = asyncio.run(
        build_report(dep, record=sample_record(), recorder=recorder, period=Period.parse(period), clock=clock)
    )
    for check_id, result in built.findings.results.items():
        console.print(f"{result.verdict.label.ja:6} {check_id}")
    pdf, page = write_report(built, out)
    console.print(f"wrote {pdf} and {page}")
