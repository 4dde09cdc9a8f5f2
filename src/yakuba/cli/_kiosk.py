"""`yakuba kiosk issue`, `history` and `screen`: a resident at a kiosk, by command or on the kiosk's touch screen."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from yakuba.errors import ValidationError, YakubaError

if TYPE_CHECKING:
    from yakuba.config import Deployment
    from yakuba.kiosk.screen import ScreenSettings

__all__ = ["OUTCOME_LABELS", "app", "parse_option"]

OUTCOME_LABELS = {
    "issued": "交付済 (issued)",
    "printed": "印刷済 (printed)",
    "jam_voided": "紙詰まり・無効 (jam, voided)",
    "abandoned": "中止 (abandoned)",
    "refused": "交付不可 (refused)",
}
"""How each history outcome reads on the screen, in Japanese and English; never with a reason."""

EXIT_REFUSED = 2
"""Exit code of a refusal or an error the user can act on, as for every yakuba command."""

app = typer.Typer(
    name="kiosk",
    help="A kiosk terminal: issue a certificate with a virtual My Number card, as a resident would.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def kiosk() -> None:
    """A kiosk terminal: issue a certificate with a virtual My Number card, as a resident would."""


def parse_option(text: str) -> tuple[str, bool | int | str | list[int]]:
    """KEY=VALUE from the command line: true/false are booleans, digits an integer, digits with commas a list of
    member positions (``members=0,2``), anything else a string."""
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise ValidationError(f"option {text!r} is not KEY=VALUE", ja=f"オプション {text!r} は KEY=VALUE の形式です")
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return key, lowered == "true"
    if raw.isdigit():
        return key, int(raw)
    parts = raw.split(",")
    if len(parts) > 1 and all(p.isdigit() for p in parts):
        return key, [int(p) for p in parts]
    return key, raw


def _read_pin() -> str:
    if sys.stdin.isatty():
        return str(typer.prompt("暗証番号 (PIN, 4 digits)", hide_input=True))
    return sys.stdin.readline().strip()


@app.command()
def issue(
    directory: Annotated[Path, typer.Argument(help="Deployment folder (holding yakuba.toml) or the TOML file.")],
    kiosk: Annotated[str, typer.Option("--kiosk", help="The kiosk instance the resident stands at.")],
    card: Annotated[Path, typer.Option("--card", help="The resident's virtual My Number card (*.card).")],
    kind: Annotated[str, typer.Option("--kind", help="Certificate kind, e.g. juminhyo, inkan, koseki-zenbu.")],
    option: Annotated[
        list[str] | None, typer.Option("--option", help="KEY=VALUE certificate option; repeat for several.")
    ] = None,
    copies: Annotated[int, typer.Option("--copies", min=1, help="Number of copies.")] = 1,
    basis: Annotated[str, typer.Option("--basis", help="residence (住所地) or honseki (本籍地).")] = "residence",
    city: Annotated[
        str | None, typer.Option("--city", help="City code (default for residence: the card's city).")
    ] = None,
    jam_copy: Annotated[
        list[int] | None, typer.Option("--jam-copy", help="Simulate a paper jam on copy K; repeatable.")
    ] = None,
    take_to: Annotated[
        Path | None,
        typer.Option("--take-to", help="Take the printed copies into this folder (else they stay spooled)."),
    ] = None,
) -> None:
    """Run one transaction: card, basis, certificate, PIN, card out, verified certificate, exact payment, print.

    The PIN is read from a hidden prompt, or from the first line of stdin when it is not a terminal. A refusal is
    one line with its code and the Japanese and English messages, exit code 2; nothing is charged then.
    """
    console = Console(highlight=False)
    try:
        asyncio.run(
            _issue(
                console,
                directory=directory,
                kiosk=kiosk,
                card=card,
                kind=kind,
                options=dict(parse_option(o) for o in option or ()),
                copies=copies,
                basis=basis,
                city=city,
                jam_copies=frozenset(jam_copy or ()),
                take_to=take_to,
            )
        )
    except YakubaError as exc:
        Console(stderr=True, highlight=False, soft_wrap=True).print(
            f"refused [{exc.code}]: {exc.text_ja} / {exc.text_en}", markup=False
        )
        raise typer.Exit(EXIT_REFUSED) from None


async def _issue(
    console: Console,
    *,
    directory: Path,
    kiosk: str,
    card: Path,
    kind: str,
    options: dict[str, bool | int | str | list[int]],
    copies: int,
    basis: str,
    city: str | None,
    jam_copies: frozenset[int],
    take_to: Path | None,
) -> None:
    from yakuba.config import load_deployment
    from yakuba.kiosk.service import Choice, run_transaction
    from yakuba.kiosk.terminal import open_kiosk
    from yakuba.pki.card import VirtualCardReader

    dep = load_deployment(directory)
    reader = VirtualCardReader.open(dep, path=card)
    if city is None:
        if basis != "residence":
            raise ValidationError("--city is needed for honseki", ja="本籍地の場合は --city を指定してください")
        city = reader.city_code
    async with open_kiosk(dep, instance=kiosk, jam_copies=jam_copies) as terminal:
        receipt, taken = await run_transaction(
            terminal,
            reader=reader,
            choice=Choice(basis=basis, city=city, kind=kind, options=options, copies=copies),
            pin=_read_pin(),
            on_card=lambda status: console.print(
                f"カードを読み取りました / card read: {status.tries_left} PIN tries left"
            ),
            on_quote=lambda quote: console.print(
                f"verified {quote.kind} serial {quote.document_serial} ({quote.pages} page(s)); "
                f"fee {quote.fee_per_copy} yen x {quote.copies} = {quote.total_yen} yen"
            ),
            take_to=take_to,
        )
        console.print(
            f"transaction {receipt.transaction_id}: {receipt.outcome.value}, charged {receipt.charged_yen} yen"
        )
        for path in receipt.printed:
            console.print(f"  printed: {path}")
        for number in receipt.voided:
            console.print(f"  copy {number}: paper jam, voided (無効), not charged")
        if receipt.change:
            console.print(f"  change: {' + '.join(str(c) for c in receipt.change)} yen")
        if not receipt.reported:
            console.print("  the completion report was not acknowledged; it is marked in the kiosk's log")
        if taken:
            console.print(f"証明書をお取りください / taken: {len(taken)} copy(ies) into {take_to}")
        elif receipt.printed:
            console.print("証明書をお取りください / the copies wait in the spool until taken")


@app.command()
def screen(
    directory: Annotated[Path, typer.Argument(help="Deployment folder (holding yakuba.toml) or the TOML file.")],
    kiosk: Annotated[str, typer.Option("--kiosk", help="The kiosk instance whose screen this is.")],
    port: Annotated[
        int | None,
        typer.Option("--port", min=0, max=65535, help="Loopback port (default: the kiosk's configured port)."),
    ] = None,
    host: Annotated[str, typer.Option("--host", help="Loopback address to listen on (127.0.0.1 or ::1).")] = (
        "127.0.0.1"
    ),
    card_slot: Annotated[
        Path | None,
        typer.Option("--card-slot", help="Folder of card files standing in for the reader (default: in the state)."),
    ] = None,
    tray: Annotated[
        Path | None, typer.Option("--tray", help="Output tray folder for printed PDFs (default: in the state).")
    ] = None,
    idle_seconds: Annotated[
        float, typer.Option("--idle-seconds", min=1.0, help="Reset the screen after this long without input.")
    ] = 90.0,
    print_seconds: Annotated[
        float, typer.Option("--print-seconds", min=0.0, help="Simulated printing time per copy.")
    ] = 2.0,
) -> None:
    """Serve the kiosk's touch screen (plain HTTP on loopback: the kiosk's own display) until Ctrl-C.

    Cards are "placed" by choosing a card file from the card slot folder; printed certificates land as PDF files
    in the output tray. Under `yakuba up` the kiosk's configured port carries its HQ-facing health listener: give
    another --port then.
    """
    from yakuba.config import load_deployment
    from yakuba.kiosk.hq_client import find_kiosk
    from yakuba.kiosk.screen import ScreenSettings, card_slot_dir, tray_dir

    console = Console(highlight=False)
    try:
        dep = load_deployment(directory)
        _, config = find_kiosk(dep, kiosk)
        settings = ScreenSettings(
            card_slot=card_slot or card_slot_dir(dep, kiosk),
            tray=tray or tray_dir(dep, kiosk),
            idle_seconds=idle_seconds,
            end_seconds=min(15.0, idle_seconds),
            print_seconds_per_copy=print_seconds,
        )
        asyncio.run(
            _serve_screen(
                console, dep=dep, kiosk=kiosk, settings=settings, host=host, port=config.port if port is None else port
            )
        )
    except YakubaError as exc:
        Console(stderr=True, highlight=False, soft_wrap=True).print(
            f"refused [{exc.code}]: {exc.text_ja} / {exc.text_en}", markup=False
        )
        raise typer.Exit(EXIT_REFUSED) from None


async def _serve_screen(
    console: Console, *, dep: Deployment, kiosk: str, settings: ScreenSettings, host: str, port: int
) -> None:
    import signal

    from yakuba.kiosk.screen import open_screen

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with open_screen(dep, instance=kiosk, settings=settings, host=host, port=port) as running:
        console.print(f"kiosk {kiosk}: screen at {running.base_url}/ (Ctrl-C stops)")
        console.print(f"  card slot: {settings.card_slot}")
        console.print(f"  output tray: {settings.tray}")
        await stop.wait()


@app.command()
def history(
    directory: Annotated[Path, typer.Argument(help="Deployment folder (holding yakuba.toml) or the TOML file.")],
    kiosk: Annotated[str, typer.Option("--kiosk", help="The kiosk instance the resident stands at.")],
    card: Annotated[Path, typer.Option("--card", help="The resident's virtual My Number card (*.card).")],
    city: Annotated[str | None, typer.Option("--city", help="City code (default: the card's city).")] = None,
) -> None:
    """私の交付履歴: the certificates issued about the card's holder in the city, where and when (no content).

    The PIN is read from a hidden prompt, or from the first line of stdin when it is not a terminal. A refusal is
    one line with its code and the Japanese and English messages, exit code 2.
    """
    console = Console(highlight=False)
    try:
        asyncio.run(_history(console, directory=directory, kiosk=kiosk, card=card, city=city))
    except YakubaError as exc:
        Console(stderr=True, highlight=False, soft_wrap=True).print(
            f"refused [{exc.code}]: {exc.text_ja} / {exc.text_en}", markup=False
        )
        raise typer.Exit(EXIT_REFUSED) from None


async def _history(console: Console, *, directory: Path, kiosk: str, card: Path, city: str | None) -> None:
    from rich.table import Table

    from yakuba.config import load_deployment
    from yakuba.kiosk.service import run_history
    from yakuba.kiosk.terminal import open_kiosk
    from yakuba.pki.card import VirtualCardReader

    dep = load_deployment(directory)
    reader = VirtualCardReader.open(dep, path=card)
    async with open_kiosk(dep, instance=kiosk) as terminal:
        lines = await run_history(terminal, reader=reader, city=city or reader.city_code, pin=_read_pin())
    table = Table(title="交付履歴 / issuance history")
    for header in ("日時 / time (JST)", "証明書 / certificate", "店舗 / store", "結果 / outcome"):
        table.add_column(header)
    for line in lines:
        table.add_row(
            line.at.strftime("%Y-%m-%d %H:%M"),
            f"{line.kind_ja} ({line.kind})",
            f"{line.store or line.kiosk_id} ({line.kiosk_id})",
            OUTCOME_LABELS.get(line.outcome.value, line.outcome.value)
            + (f" x{line.copies}" if line.outcome.value == "printed" else ""),
        )
    console.print(table)
    console.print(f"{len(lines)} 件 / {len(lines)} record(s)")
