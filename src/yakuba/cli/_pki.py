"""`yakuba pki ...`: create, list and re-issue certificates, revoke cards, enrol and reset virtual cards."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from yakuba.config import Deployment, load_deployment
from yakuba.errors import ValidationError

__all__ = ["app"]

app = typer.Typer(
    name="pki",
    help="The deployment's PKI: segment CAs, service certificates, the JPKI and LGPKI stand-ins, cards.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

FINGERPRINT_SHOWN = 16
"""Hex digits of a fingerprint shown in tables: enough to tell certificates apart by eye."""

CARDS_LISTED_BY_DEFAULT = 20
"""Above this many cards, `show` prints a count instead of one row per card (use --cards for all)."""

PIPE_WIDTH = 200
"""Table width when the output is not a terminal (80 columns would fold names across lines)."""

DeploymentDir = Annotated[Path, typer.Argument(help="Deployment folder (holding yakuba.toml) or the TOML file.")]


def _load(directory: Path) -> Deployment:
    return load_deployment(directory)


def _read_pin(pin: str | None, pin_file: Path | None, *, prompt: str) -> str:
    if pin is not None and pin_file is not None:
        raise ValidationError("give --pin or --pin-file, not both", ja="--pin と --pin-file は同時に指定できません")
    if pin_file is not None:
        try:
            return pin_file.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ValidationError(f"{pin_file}: cannot read the PIN file", ja=f"{pin_file}: 読み込めません") from exc
    if pin is not None:
        return pin
    return str(typer.prompt(prompt, hide_input=True))


@app.command()
def init(directory: DeploymentDir) -> None:
    """Create every missing CA, certificate and secret of the deployment; keep what is there."""
    from yakuba.pki import init_pki

    summary = init_pki(_load(directory))
    Console().print(f"PKI: {summary}")


@app.command()
def show(
    directory: DeploymentDir,
    cards: Annotated[bool, typer.Option("--cards", help="List every card certificate.")] = False,
) -> None:
    """List every CA, service, city and card certificate and the CRL."""
    from yakuba.pki import CertificateKind, list_certificates

    infos = list_certificates(_load(directory))
    card_infos = [i for i in infos if i.kind == CertificateKind.CARD]
    list_cards = cards or len(card_infos) <= CARDS_LISTED_BY_DEFAULT
    table = Table(title="yakuba PKI", show_lines=False)
    for column in ("kind", "name", "subject", "not after (UTC)", "sha256"):
        table.add_column(column, overflow="fold")
    for info in infos:
        if info.kind == CertificateKind.CARD and not list_cards:
            continue
        label = f"{info.name} (revoked)" if info.revoked else info.name
        table.add_row(
            info.kind,
            label,
            info.subject,
            info.not_after.strftime("%Y-%m-%d %H:%M"),
            info.fingerprint[:FINGERPRINT_SHOWN],
        )
    console = Console()
    if not console.is_terminal:
        console = Console(width=PIPE_WIDTH)  # piped output: keep each row on one line for grep
    console.print(table)
    if not list_cards:
        revoked = sum(1 for i in card_infos if i.revoked)
        console.print(f"{len(card_infos)} card certificates ({revoked} revoked); use --cards to list them")


@app.command()
def issue(
    directory: DeploymentDir,
    instance: Annotated[str, typer.Option("--instance", help="Role instance id, e.g. center-1.")],
    segment: Annotated[str, typer.Option("--segment", help="Segment id, e.g. lgwan or backbone:132292.")],
) -> None:
    """Re-issue one service certificate (with a new key) from its segment's CA."""
    from yakuba.pki import issue_service_certificate

    identity = issue_service_certificate(_load(directory), instance=instance, segment_id=segment)
    Console().print(f"issued {identity.spiffe_id} on {identity.segment_id}: {identity.cert_path}")


@app.command()
def revoke(
    directory: DeploymentDir,
    card: Annotated[str, typer.Option("--card", help="Card serial (16 hex digits).")],
    reason: Annotated[str, typer.Option("--reason", help="RFC 5280 reason, e.g. keyCompromise.")],
) -> None:
    """Revoke a card's certificate and publish the new CRL."""
    from yakuba.pki import revoke_card

    crl = revoke_card(_load(directory), card, reason)
    Console().print(f"revoked {card.upper()}; the CRL now lists {len(crl)} certificates")


@app.command()
def enrol(
    directory: DeploymentDir,
    out: Annotated[Path, typer.Argument(help="Card file to create (*.card).")],
    city: Annotated[str, typer.Option("--city", help="Issuing city code.")],
    pin: Annotated[
        str | None, typer.Option("--pin", help="4-digit PIN (visible to other users; prefer --pin-file).")
    ] = None,
    pin_file: Annotated[Path | None, typer.Option("--pin-file", help="File holding the 4-digit PIN.")] = None,
) -> None:
    """Enrol a new virtual My Number card for CITY into OUT."""
    from yakuba.pki.card import enrol_card

    dep = _load(directory)
    info = enrol_card(dep, city_code=city, pin=_read_pin(pin, pin_file, prompt="PIN"), path=out)
    Console().print(f"card {info.serial} (city {info.city_code}, sha256 {info.fingerprint[:FINGERPRINT_SHOWN]}): {out}")


@app.command(name="reset-pin")
def reset_pin(
    directory: DeploymentDir,
    card: Annotated[Path, typer.Argument(help="The card file.")],
    city: Annotated[str, typer.Option("--city", help="The city counter doing the reset.")],
    new_pin_file: Annotated[
        Path | None, typer.Option("--new-pin-file", help="File with a new 4-digit PIN (default: keep the PIN).")
    ] = None,
) -> None:
    """At the city counter: unlock CARD (and optionally set a new PIN) with the city's counter key."""
    from yakuba.pki.card import CityCounter, VirtualCardReader, reset_pin_lock

    dep = _load(directory)
    new_pin = _read_pin(None, new_pin_file, prompt="") if new_pin_file is not None else None
    counter = CityCounter.from_deployment(dep, city)
    reader = VirtualCardReader.open(dep, path=card)
    token = counter.authorize_pin_reset(reader, new_pin=new_pin)
    reset_pin_lock(dep, card_path=card, authorization=token)
    Console().print(f"card {reader.serial}: PIN lock reset by city {city}" + (" with a new PIN" if new_pin else ""))
