"""The demo's main act: a generated town and every certificate kind issued through the whole chain."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from yakuba.clock import FixedClock, SystemClock
from yakuba.config import Deployment
from yakuba.errors import YakubaError
from yakuba.network.sample_town import SampleTown, Situation, TownCard, next_open_weekday

__all__ = ["DEMO_RESIDENTS", "run_chain"]

DEMO_RESIDENTS = 400
"""Residents generated per city: every situation the demo shows, in a few seconds."""

PAGE_SCALE = 1.5
"""Rendering scale of the PNG previews (1.5 x 72 dpi: readable on screen, small on disk)."""

REPORT_WAIT_S = 60.0
"""How long the demo waits, before stopping the roles, for the store HQs to report every completion on (they
answer the kiosk at once and send completions to the center in batches; normally milliseconds)."""


@dataclass(frozen=True, slots=True)
class _Order:
    situation: Situation
    city: str
    kind: str
    options: dict[str, bool | int | str | list[int]]
    kiosk: str
    copies: int = 1


def _orders(dep: Deployment) -> list[_Order]:
    home, neighbour = dep.cities[0].code, dep.cities[1].code
    stores = [kiosk.instance for _, kiosk in dep.kiosks()]
    return [
        _Order(Situation.HOUSEHOLD, home, "juminhyo", {"show_relationship": True}, stores[0]),
        _Order(Situation.HOUSEHOLD, home, "juminhyo-kisai", {}, stores[1]),
        _Order(Situation.HOUSEHOLD, home, "kazei", {}, stores[2]),
        _Order(Situation.HOUSEHOLD, home, "shotoku", {}, stores[3]),
        _Order(Situation.SEAL, home, "inkan", {}, stores[0]),
        _Order(Situation.KOSEKI, home, "koseki-zenbu", {}, stores[1]),
        _Order(Situation.KOSEKI, home, "koseki-kojin", {}, stores[2]),
        _Order(Situation.KOSEKI, home, "fuhyo", {}, stores[3]),
        _Order(Situation.HOUSEHOLD, neighbour, "juminhyo", {}, stores[2], copies=2),
        _Order(Situation.SUPPORT_MEASURE, home, "juminhyo", {}, stores[0]),
        _Order(Situation.UNDER_15, home, "juminhyo", {}, stores[1]),
        _Order(Situation.PENDING_MOVE_OUT, home, "juminhyo", {}, stores[0]),
    ]


def run_chain(dep: Deployment, out: Path, console: Console) -> None:
    """Generate the town, start every role, issue every kind from the kiosks, show and keep the results."""
    clock = FixedClock(next_open_weekday(SystemClock().now()))
    console.print(
        f"The network runs on a simulated clock set to {clock.now():%Y-%m-%d %H:%M} JST, a weekday (not a national "
        "holiday) inside service hours, so every kind (family registers are weekdays only) can be shown whenever "
        "you run this."
    )
    with console.status(f"generating {DEMO_RESIDENTS} residents per city and enrolling their cards…"):
        town = SampleTown.create(dep, clock=clock, residents=DEMO_RESIDENTS, seed=2016)
    cards = Table(title="cards handed out at the city counters (synthetic residents)")
    for column in ("city", "person id", "situation", "card serial"):
        cards.add_column(column)
    for card in town.cards:
        cards.add_row(card.city_code, str(card.person_id), card.situation.value, card.serial)
    console.print(cards)
    _log_to(out / "logs" / "roles.log")
    rows = asyncio.run(_issue_all(dep, clock, town, out / "printed", console))
    table = Table(title="kiosk → store HQ → center → forwarder → issuer, and back sealed (4 mTLS hops each way)")
    for column in ("kind", "person", "kiosk", "hops", "ms", "verified", "outcome"):
        table.add_column(column, overflow="fold")
    table.caption = "person = city code/person id (synthetic); a refusal charges nothing"
    for row in rows:
        table.add_row(*row)
    console.print(table)
    console.print(f"printed certificates (PDF) and page previews (PNG): {out / 'printed'}")
    console.print(f"the roles' logs (ids and codes only): {out / 'logs' / 'roles.log'}")


async def _issue_all(
    dep: Deployment, clock: FixedClock, town: SampleTown, folder: Path, console: Console
) -> list[tuple[str, ...]]:
    from yakuba.kiosk.service import Choice, run_transaction
    from yakuba.kiosk.terminal import open_kiosk
    from yakuba.network import LocalNetwork
    from yakuba.pki.card import VirtualCardReader
    from yakuba.storehq import wait_until_reported

    folder.mkdir(parents=True, exist_ok=True)
    rows: list[tuple[str, ...]] = []
    orders = _orders(dep)
    with console.status("starting every role (issuers load fonts and keys)…"):
        network = LocalNetwork(dep=dep, clock=clock)
        await network.start()
    try:
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("issuing", total=len(orders))
            for order in orders:
                card = town.card(order.situation, city_code=order.city)
                began = time.perf_counter()
                try:
                    async with open_kiosk(dep, instance=order.kiosk, clock=clock) as terminal:
                        receipt, taken = await run_transaction(
                            terminal,
                            reader=VirtualCardReader.open(dep, path=card.path),
                            choice=Choice(
                                basis="residence",
                                city=order.city,
                                kind=order.kind,
                                options=order.options,
                                copies=order.copies,
                            ),
                            pin=card.pin,
                            take_to=folder / f"{order.city}-{order.kind}-{order.situation.value}",
                        )
                    verified, result = "✓", f"{len(receipt.printed)} printed, {receipt.charged_yen} yen"
                    await asyncio.to_thread(_previews, taken)
                except YakubaError as exc:
                    verified, result = "-", escape(f"refused: {exc.code} ({order.situation.value})")
                elapsed = (time.perf_counter() - began) * 1000
                rows.append(_row(order, card, elapsed, verified, result))
                progress.advance(task)
        with console.status("the store HQs report the completions to the center, the cities close their logs…"):
            left = await wait_until_reported(dep, timeout_s=REPORT_WAIT_S)
        if left:
            console.print(f"[yellow]{left} completions still queued at the store HQs; they are sent on next start[/]")
    finally:
        await network.stop()
    return rows


def _row(order: _Order, card: TownCard, elapsed_ms: float, verified: str, result: str) -> tuple[str, ...]:
    person = f"{order.city}/{card.person_id}"
    return (order.kind, person, order.kiosk, "4", f"{elapsed_ms:.0f}", verified, result)


def _previews(pdfs: tuple[Path, ...]) -> None:
    """A PNG of every page of the first copy, beside it."""
    import pypdfium2 as pdfium

    if not pdfs:
        return
    document = pdfium.PdfDocument(pdfs[0])
    try:
        for index in range(len(document)):
            image = document[index].render(scale=PAGE_SCALE).to_pil()
            image.save(pdfs[0].with_name(f"{pdfs[0].stem}-page{index + 1}.png"))
    finally:
        document.close()


def _log_to(path: Path) -> None:
    """The roles' own log lines (ids, codes, never personal data) go to a file, not over the demo's tables."""
    import logging

    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
