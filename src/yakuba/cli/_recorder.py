"""`yakuba recorder ...`: create the recorder, make synthetic cards, ingest card dumps, sweep, take stock."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

from yakuba.config import load_deployment
from yakuba.recorder import Recorder, ingest_card, init_recorder, run_sweep
from yakuba.recorder.media import CardSpec, make_card

__all__ = ["app"]

app = typer.Typer(
    name="recorder",
    help="Drive-recorder footage.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()

DeploymentOpt = Annotated[Path, typer.Option("--deployment", "-d", help="Deployment folder (or its yakuba.toml).")]


@app.command("init")
def init(deployment: Annotated[Path, typer.Argument(help="Deployment folder.")]) -> None:
    """Create the recorder database with the sample fleet, staff and media ledger."""
    rec = init_recorder(load_deployment(deployment))
    console.print(f"recorder ready: {len(rec.cards())} cards in the ledger")


@app.command("make-card")
def make_card_cmd(
    dest: Annotated[Path, typer.Argument(help="Folder to write the card dump into.")],
    vehicle: Annotated[str, typer.Option(help="Vehicle id burned into the picture.")] = "T01",
    segments: Annotated[int, typer.Option(help="Loop segments.")] = 6,
    seconds: Annotated[int, typer.Option(help="Seconds per segment.")] = 5,
    seed: Annotated[int, typer.Option(help="Seed: same seed, same card.")] = 1,
    start: Annotated[str, typer.Option(help="Recording start, ISO 8601 with offset.")] = "2025-03-01T08:00:00+09:00",
) -> None:
    """Write a synthetic card dump (H.264 MP4 segments, event files, NMEA tracks)."""
    files = make_card(
        dest,
        CardSpec(
            vehicle_id=vehicle,
            start=dt.datetime.fromisoformat(start),
            segments=segments,
            segment_seconds=seconds,
            seed=seed,
        ),
    )
    console.print(f"{len(files)} video files written to {dest}")


@app.command("ingest")
def ingest(
    card_dir: Annotated[Path, typer.Argument(help="The card dump.")],
    vehicle: Annotated[str, typer.Option("--vehicle", help="Vehicle the card came from.")],
    staff: Annotated[str, typer.Option("--staff", help="Staff id doing the ingest.")] = "rec01",
    card: Annotated[str | None, typer.Option("--card", help="Card id in the media ledger.")] = None,
    deployment: DeploymentOpt = Path("."),
) -> None:
    """Ingest a card dump: verify, hash, store write-once, catalogue; corrupt files are kept aside."""
    rec = Recorder.from_deployment(load_deployment(deployment))
    total = sum(p.stat().st_size for p in card_dir.rglob("*") if p.suffix.lower() == ".mp4")
    with Progress(
        TextColumn("ingest"), BarColumn(), TransferSpeedColumn(), TimeRemainingColumn(), console=console
    ) as bar:
        task = bar.add_task("ingest", total=total)
        report = ingest_card(
            rec,
            card_dir,
            vehicle_id=vehicle,
            staff_id=staff,
            card_id=card,
            progress=lambda _n, done: bar.update(task, completed=done),
        )
    console.print(f"stored {report.stored}, already stored {report.duplicates}, rejected {len(report.rejected)}")
    for name in report.rejected:
        console.print(f"[red]corrupt, kept aside:[/red] {name}")
    if report.rejected:
        raise typer.Exit(code=2)


@app.command("sweep")
def sweep(
    deployment: DeploymentOpt = Path("."),
    confirmed_by: Annotated[
        str | None, typer.Option("--confirmed-by", help="Section chief confirming a sweep of over half the store.")
    ] = None,
    confirm_count: Annotated[
        int | None, typer.Option("--confirm-count", help="The exact number of segments the refusal named.")
    ] = None,
) -> None:
    """Erase footage past its retention (holds re-checked; over half the store needs the section chief)."""
    report = run_sweep(load_deployment(deployment), confirmed_by=confirmed_by, confirm_count=confirm_count)
    console.print(f"examined {report.examined}, erased {report.erased}, kept by holds {report.kept_by_hold}")


@app.command("stock-take")
def stock_take(
    cards: Annotated[list[str], typer.Argument(help="Card ids found in the safe.")],
    staff: Annotated[str, typer.Option("--staff", help="Staff id taking stock.")] = "rec01",
    deployment: DeploymentOpt = Path("."),
) -> None:
    """Record the cards found in the safe and list the discrepancies with the ledger."""
    found = Recorder.from_deployment(load_deployment(deployment)).stock_take(staff_id=staff, scanned=cards)
    for d in found:
        console.print(f"{d.card_id}: {d.problem} (ledger: {d.ledger_place or '-'})")
    if found:
        raise typer.Exit(code=1)


@app.command("alerts")
def alerts(deployment: DeploymentOpt = Path(".")) -> None:
    """Cards with no known place, and cards overdue from a loan."""
    for d in Recorder.from_deployment(load_deployment(deployment)).card_alerts():
        console.print(f"{d.card_id}: {d.problem}")
