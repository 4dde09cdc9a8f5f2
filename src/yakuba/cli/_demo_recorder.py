"""The demo's second act: a garbage truck's SD card ingested, an incident held, footage viewed with a purpose,
and a week later the sweep erasing all but the held footage."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from rich.console import Console
from rich.table import Table

from yakuba.clock import JST, FixedClock, SystemClock
from yakuba.config import Deployment

__all__ = ["run_recorder"]

TRUCK = "T01"
"""The sample truck whose card the demo reads (one of the 15 fitted with a recorder)."""

SEGMENTS = 6
"""Loop segments on the demo card (3 s each at 320x180: real H.264, small and quick)."""


def run_recorder(dep: Deployment, out: Path, console: Console) -> None:
    """Fleet and ledger, ingest, an incident hold, a purposeful view, a refused driver, the week-later sweep."""
    from yakuba.errors import YakubaError
    from yakuba.recorder import Recorder, ingest_card
    from yakuba.recorder.media import CardSpec, make_card
    from yakuba.recorder.service import HoldKind, sample_fleet

    recorded = SystemClock().now().astimezone(JST).replace(microsecond=0) - dt.timedelta(hours=1)
    clock = FixedClock(recorded + dt.timedelta(minutes=30))
    recorder = Recorder.from_deployment(dep, clock=clock)
    recorder.install_fleet(sample_fleet(), staff_id="rec01", counter_staff_id="sup01")
    console.print(
        f"fleet: 29 trucks, 15 fitted with a recorder; media ledger: {len(recorder.cards())} SD cards, "
        "each with a known place"
    )
    card = out / "sd-card-T01"
    make_card(card, CardSpec(vehicle_id=TRUCK, start=recorded, segments=SEGMENTS, seed=7))
    report = ingest_card(recorder, card, vehicle_id=TRUCK, staff_id="rec01")
    console.print(
        f"ingested card of {TRUCK}: {report.stored} segments stored write-once (SHA-256 named), "
        f"{len(report.rejected)} truncated file(s) set aside and reported, times read from the containers"
    )
    hold = recorder.place_hold(
        staff_id="sup01",
        kind=HoldKind.INCIDENT,
        vehicle_id=TRUCK,
        window_start=recorded,
        window_end=recorded + dt.timedelta(seconds=5),
        description="contact with a parked bicycle at a collection point",
    )
    # The segment recorded first, whatever its file was named (the card's first file is pre-allocated).
    first = min(range(1, report.stored + 1), key=lambda sid: recorder.segment(sid).start)
    token = recorder.grant_view(staff_id="sup01", segment_id=first, basis_hold_id=hold, purpose="find the cause")
    console.print(f"incident {hold} holds the footage of its window; the supervisor viewed it (logged with purpose)")
    try:
        recorder.grant_view(staff_id="drv01", segment_id=first, basis_hold_id=hold, purpose="curious")
    except YakubaError as exc:
        console.print(f"a driver asking to view → [red]refused[/red] ({exc.code})")
    streamed = recorder.open_grant(token=token, segment_id=first)
    console.print(f"the grant opens exactly that segment for streaming ({streamed.stat().st_size} bytes, read-only)")
    clock.advance(dt.timedelta(days=8))
    due, total = recorder.sweep_preview()
    console.print(
        f"{due} of {total} segments are due: over half of this one-card store, so the section chief confirms "
        "the exact count (the guard refuses an unconfirmed sweep that large)"
    )
    swept = recorder.sweep(confirmed_by="chief01", confirm_count=due)
    table = Table(title="eight days later: the retention sweep (erase after 7 days; holds win)")
    for column in ("examined", "erased", "kept by the incident hold", "store before"):
        table.add_column(column)
    table.add_row(str(swept.examined), str(swept.erased), str(swept.kept_by_hold), str(swept.store_size))
    console.print(table)
