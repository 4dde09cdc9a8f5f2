"""`yakuba card ...`: the city counter makes a resident's virtual My Number card, and unlocks a locked one."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from yakuba.clock import SystemClock
from yakuba.config import load_deployment
from yakuba.errors import ValidationError

__all__ = ["app"]

app = typer.Typer(
    name="card",
    help="The city counter: issue a resident's virtual My Number card, reset a locked PIN.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

CARD_DIR = "cards"
"""Folder under the state folder where the counter writes new card files by default."""

DeploymentOpt = Annotated[
    Path, typer.Option("--deployment", "-d", help="Deployment folder (holding yakuba.toml) or the TOML file.")
]


@app.command()
def issue(
    city: Annotated[str, typer.Option("--city", help="The issuing city (the person's city of residence).")],
    person: Annotated[int, typer.Option("--person", help="Person id on the city's registry.")],
    out: Annotated[Path | None, typer.Option("--out", help="Card file to write (*.card).")] = None,
    deployment: DeploymentOpt = Path("."),
) -> None:
    """Make a virtual My Number card for a resident and print its one-time PIN to the operator.

    The binding card serial -> person is stored only in this city's registry database; the card file's name
    says nothing about whose card it is.
    """
    from yakuba.registry import enrol_resident_card, open_city_registry

    dep = load_deployment(deployment)
    clock = SystemClock()
    reg = open_city_registry(dep, city, clock=clock)
    if out is None:
        folder = dep.state_dir / CARD_DIR
        folder.mkdir(mode=0o750, parents=True, exist_ok=True)
        out = folder / f"card-{secrets.token_hex(6)}.card"
    card = enrol_resident_card(dep, reg.events, city_code=city, person_id=person, path=out, clock=clock)
    console = Console(soft_wrap=True)  # paths and PINs are copied by operators: never fold them
    console.print(f"card {card.serial} written to {card.path}")
    console.print(f"one-time PIN (hand it to the resident, do not keep it): [bold]{card.one_time_pin}[/bold]")


@app.command(name="reset-pin")
def reset_pin(
    card: Annotated[Path, typer.Argument(help="The locked card file.")],
    city: Annotated[str, typer.Option("--city", help="The city counter doing the reset.")],
    new_pin_file: Annotated[
        Path | None, typer.Option("--new-pin-file", help="File with a new 4-digit PIN (default: keep the PIN).")
    ] = None,
    deployment: DeploymentOpt = Path("."),
) -> None:
    """Unlock a card whose PIN is locked (three wrong PINs), at the city counter with the city's key."""
    from yakuba.pki.card import CityCounter, VirtualCardReader, reset_pin_lock

    dep = load_deployment(deployment)
    new_pin: str | None = None
    if new_pin_file is not None:
        try:
            new_pin = new_pin_file.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ValidationError(
                f"{new_pin_file}: cannot read the PIN file", ja=f"{new_pin_file}: 読み込めません"
            ) from exc
    counter = CityCounter.from_deployment(dep, city)
    reader = VirtualCardReader.open(dep, path=card)
    token = counter.authorize_pin_reset(reader, new_pin=new_pin)
    reset_pin_lock(dep, card_path=card, authorization=token)
    Console().print(f"card {reader.serial}: PIN lock reset by city {city}" + (" with a new PIN" if new_pin else ""))
