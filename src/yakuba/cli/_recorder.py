"""`yakuba recorder ...`: recorder setup, synthetic cards, ingest, scrub, sweep, stock-take and external provision."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from cryptography import x509
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

from yakuba.clock import JST
from yakuba.config import load_deployment
from yakuba.recorder import (
    PackageInvalidError,
    Recorder,
    ingest_card,
    init_recorder,
    provisions,
    run_sweep,
    scrub,
    scrub_alerts,
)
from yakuba.recorder.media import CardSpec, make_card
from yakuba.recorder.provision import (
    Decision,
    LegalBasis,
    ProvisionDesk,
    RequesterKind,
    RequestWindow,
    ReturnKind,
    verify_package,
)

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


@app.command("scrub")
def scrub_cmd(
    deployment: DeploymentOpt = Path("."),
    limit: Annotated[int | None, typer.Option(help="At most this many segments (default: all waiting).")] = None,
) -> None:
    """Decode every frame of the segments ingest only checked structurally; flag (never erase) failures."""
    rec = Recorder.from_deployment(load_deployment(deployment))
    with Progress(
        TextColumn("scrub"),
        BarColumn(),
        TextColumn("{task.completed} segments"),
        TimeRemainingColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("scrub", total=None)
        report = scrub(
            rec, limit=limit, progress=lambda done, total, _frames: bar.update(task, completed=done, total=total)
        )
    rate = report.frames / report.wall_seconds if report.wall_seconds else 0.0
    console.print(
        f"decoded {report.verified}, failed {report.failed}, erased meanwhile {report.erased_meanwhile}, "
        f"still waiting {report.pending}; {report.frames} frames at {rate:.0f} frames/s"
    )
    if report.failed:
        raise typer.Exit(code=2)


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
    """Cards with no known place, cards overdue from a loan, and segments the scrub found damaged."""
    rec = Recorder.from_deployment(load_deployment(deployment))
    for d in rec.card_alerts():
        console.print(f"{d.card_id}: {d.problem}")
    for a in scrub_alerts(rec):
        console.print(f"segment {a.segment_id} ({a.vehicle_id}, {a.start.isoformat()}): {a.problem}: {a.detail}")


# -- external provision (#9) ---------------------------------------------------------------------------


def _desk(deployment: Path) -> ProvisionDesk:
    return ProvisionDesk.from_deployment(load_deployment(deployment))


def _window(text: str) -> RequestWindow:
    """VEHICLE,START,END with ISO 8601 times and offsets, e.g. T01,2025-03-01T08:00+09:00,2025-03-01T08:10+09:00."""
    try:
        vehicle, start, end = text.split(",")
        return RequestWindow(
            vehicle_id=vehicle.strip(), start=dt.datetime.fromisoformat(start), end=dt.datetime.fromisoformat(end)
        )
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r}: expected VEHICLE,START,END ({exc})") from exc


@app.command("request")
def request_cmd(
    window: Annotated[list[str], typer.Option("--window", help="VEHICLE,START,END (ISO 8601); repeatable.")],
    form_no: Annotated[str, typer.Option("--form-no", help="The requester's document number.")],
    requester_kind: Annotated[RequesterKind, typer.Option("--requester-kind")],
    requester: Annotated[str, typer.Option("--requester", help="Requesting body (kept in the register only).")],
    basis: Annotated[LegalBasis, typer.Option("--basis", help="Legal basis of the request.")],
    purpose: Annotated[str, typer.Option("--purpose", help="Purpose as the request states it.")],
    deadline: Annotated[str | None, typer.Option("--deadline", help="Answer deadline, YYYY-MM-DD.")] = None,
    audio: Annotated[bool, typer.Option("--audio/--no-audio", help="Audio asked for.")] = False,
    blur: Annotated[bool, typer.Option("--blur/--no-blur", help="Blur faces and plates.")] = False,
    staff: Annotated[str, typer.Option("--staff", help="Officer registering the request.")] = "rec01",
    deployment: DeploymentOpt = Path("."),
) -> None:
    """Register an external-provision request; its footage is put on hold at once."""
    request_no = _desk(deployment).receive(
        staff_id=staff,
        form_no=form_no,
        requester_kind=requester_kind,
        requester_name=requester,
        legal_basis=basis,
        purpose=purpose,
        windows=[_window(w) for w in window],
        deadline=None if deadline is None else dt.date.fromisoformat(deadline),
        keep_audio=audio,
        blur=blur,
    )
    console.print(f"registered {request_no}; footage on hold")


@app.command("decide")
def decide_cmd(
    request_no: Annotated[str, typer.Argument(help="Request number, e.g. P2025-0001.")],
    decision: Annotated[Decision, typer.Option("--decision")],
    reasons: Annotated[str, typer.Option("--reasons", help="Written reasons (kept in the register).")],
    staff: Annotated[str, typer.Option("--staff", help="The section chief deciding.")],
    approve_window: Annotated[
        list[int] | None, typer.Option("--approve-window", help="Window ids approved (partly_approved).")
    ] = None,
    return_by: Annotated[str | None, typer.Option("--return-by", help="Return-or-destroy date, YYYY-MM-DD.")] = None,
    deployment: DeploymentOpt = Path("."),
) -> None:
    """The section chief's decision: approved, partly_approved or refused, with reasons."""
    record = _desk(deployment).decide(
        request_no=request_no,
        staff_id=staff,
        decision=decision,
        reasons=reasons,
        approved_windows=approve_window,
        return_by=None if return_by is None else dt.date.fromisoformat(return_by),
    )
    console.print(f"{request_no}: {record.status.value}, return by {record.return_due or '-'}")


@app.command("export")
def export_cmd(
    request_no: Annotated[str, typer.Argument(help="Request number.")],
    dest: Annotated[Path, typer.Option("--dest", help="Folder for the clips.")],
    staff: Annotated[str, typer.Option("--staff")] = "rec01",
    deployment: DeploymentOpt = Path("."),
) -> None:
    """Cut the approved windows frame-accurately (blurred if decided); flagged frames await review."""
    with Progress(TextColumn("{task.description}"), TextColumn("{task.completed} frames"), console=console) as bar:
        task = bar.add_task("export")
        clips = _desk(deployment).export(
            request_no=request_no,
            staff_id=staff,
            dest_dir=dest,
            progress=lambda name, done: bar.update(task, description=name, completed=done),
        )
    for c in clips:
        console.print(
            f"{c.path.name}: requested {c.requested_start.isoformat()} - {c.requested_end.isoformat()}, "
            f"actual {c.actual_first.isoformat()} - {c.actual_last.isoformat()}, {c.frames} frames, "
            f"{len(c.flagged)} flagged"
        )


@app.command("review")
def review_cmd(
    request_no: Annotated[str, typer.Argument(help="Request number.")],
    checked: Annotated[int, typer.Option("--checked", help="Flagged frames you looked at (all of them).")],
    staff: Annotated[str, typer.Option("--staff")] = "sup01",
    deployment: DeploymentOpt = Path("."),
) -> None:
    """Sign off that every flagged frame of a blurred export was checked by a person."""
    _desk(deployment).review(request_no=request_no, staff_id=staff, checked_frames=checked)
    console.print(f"{request_no}: review recorded")


@app.command("release")
def release_cmd(
    request_no: Annotated[str, typer.Argument(help="Request number.")],
    dest: Annotated[Path, typer.Option("--dest", help="Package folder, or a .zip file with --zip.")],
    as_zip: Annotated[bool, typer.Option("--zip/--folder")] = False,
    staff: Annotated[str, typer.Option("--staff")] = "rec01",
    deployment: DeploymentOpt = Path("."),
) -> None:
    """Make the signed package (clips, manifest, receipt PDF) and record the copy as lent."""
    path = _desk(deployment).package(request_no=request_no, staff_id=staff, dest=dest, as_zip=as_zip)
    console.print(f"package: {path}")


@app.command("verify-package")
def verify_package_cmd(
    package: Annotated[Path, typer.Argument(help="Package folder or ZIP.")],
    root: Annotated[
        Path | None, typer.Option("--root", help="Trusted root certificate (default: the deployment's LGPKI root).")
    ] = None,
    deployment: DeploymentOpt = Path("."),
) -> None:
    """Check a package's signature, certificate chain and every file's SHA-256; exit 1 if anything differs."""
    if root is None:
        root = load_deployment(deployment).key_dir / "ca" / "lgpki-root.crt"
    try:
        manifest = verify_package(package, root=x509.load_pem_x509_certificate(root.read_bytes()))
    except PackageInvalidError as exc:
        console.print(f"[red]INVALID[/red]: {exc.text_en}")
        raise typer.Exit(code=1) from exc
    console.print(f"OK: {manifest['request_no']}, {len(manifest['clips'])} clips, return by {manifest['return_due']}")


@app.command("return")
def return_cmd(
    request_no: Annotated[str, typer.Argument(help="Request number.")],
    kind: Annotated[ReturnKind, typer.Option("--kind")],
    reference: Annotated[str, typer.Option("--reference", help="Receipt or destruction-certificate number.")],
    staff: Annotated[str, typer.Option("--staff")] = "rec01",
    deployment: DeploymentOpt = Path("."),
) -> None:
    """Record that a lent copy came back or that its destruction was certified."""
    _desk(deployment).record_return(request_no=request_no, staff_id=staff, kind=kind, reference=reference)
    console.print(f"{request_no}: {kind.value}")


@app.command("close")
def close_cmd(
    request_no: Annotated[str, typer.Argument(help="Request number.")],
    reason: Annotated[str, typer.Option("--reason")],
    staff: Annotated[str, typer.Option("--staff", help="The section chief.")],
    deployment: DeploymentOpt = Path("."),
) -> None:
    """Close a request and release its holds (the section chief, explicitly; audited)."""
    released = _desk(deployment).close(request_no=request_no, staff_id=staff, reason=reason)
    console.print(f"{request_no}: closed, {released} holds released")


@app.command("provisions")
def provisions_cmd(
    since: Annotated[str, typer.Option("--since", help="ISO 8601 date or time.")],
    until: Annotated[str, typer.Option("--until", help="ISO 8601 date or time (exclusive).")],
    overdue_only: Annotated[bool, typer.Option("--overdue")] = False,
    deployment: DeploymentOpt = Path("."),
) -> None:
    """The provision register for a period (no names, purposes or reasons); --overdue lists late copies."""

    def when(text: str) -> dt.datetime:
        value = dt.datetime.fromisoformat(text)
        return value if value.tzinfo else value.replace(tzinfo=JST)

    rec = Recorder.from_deployment(load_deployment(deployment))
    rows = provisions(rec, since=when(since), until=when(until))
    for s in rows:
        if overdue_only and not s.overdue:
            continue
        console.print(
            f"{s.request_no}\t{s.received_at.astimezone(JST):%Y-%m-%d}\t{s.requester_kind}\t{s.legal_basis}"
            f"\t{s.decision or 'pending'}\t{s.decided_by_role or '-'}\t{s.status}\treturn {s.return_due or '-'}"
            + ("\tOVERDUE" if s.overdue else "")
        )
    if overdue_only and any(s.overdue for s in rows):
        raise typer.Exit(code=1)
