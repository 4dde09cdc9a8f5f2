"""`yakuba registry ...`: generate a synthetic city, look people up, and record life events at the counter."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from yakuba.clock import JST, SystemClock
from yakuba.config import Deployment, load_deployment
from yakuba.errors import ValidationError

if TYPE_CHECKING:
    from yakuba.registry import Address, CityRegistry

__all__ = ["app", "event_app"]

app = typer.Typer(
    name="registry",
    help="The city's registries of record (住民基本台帳, 印鑑登録, 税務, 戸籍) and a synthetic city generator.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
event_app = typer.Typer(
    name="event",
    help="Record a life event for a person (each one a single transaction with its history rows).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(event_app, name="event")

FIND_LIMIT = 50
"""Rows `find` shows at most: a look-up at the counter, not an export of the register."""

DeploymentOpt = Annotated[
    Path, typer.Option("--deployment", "-d", help="Deployment folder (holding yakuba.toml) or the TOML file.")
]
CityOpt = Annotated[str, typer.Option("--city", help="City code, e.g. 132292.")]
PersonOpt = Annotated[int, typer.Option("--person", help="Person id on the city's registry.")]
DateOpt = Annotated[str | None, typer.Option("--on", help="Date of the event, YYYY-MM-DD (default: today).")]


def _dep(directory: Path) -> Deployment:
    return load_deployment(directory)


def _date(text: str | None, what: str = "--on") -> dt.date:
    if text is None:
        return SystemClock().now().astimezone(JST).date()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            f"{what}: not a date (YYYY-MM-DD): {text!r}", ja=f"{what}: 日付の形式が違います"
        ) from None


def _registry(directory: Path, city: str) -> CityRegistry:
    from yakuba.registry import open_city_registry

    return open_city_registry(_dep(directory), city, clock=SystemClock())


@app.command()
def generate(
    city: CityOpt,
    residents: Annotated[int, typer.Option("--residents", min=1, help="Current residents to generate.")],
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed and date give the same city.")] = 1,
    as_of: Annotated[str | None, typer.Option("--as-of", help="The city's 'today', YYYY-MM-DD.")] = None,
    deployment: DeploymentOpt = Path("."),
) -> None:
    """Fill the city's empty registry with a realistic synthetic population."""
    from yakuba.registry import generate_city
    from yakuba.registry.generate import places_for
    from yakuba.registry.store import RegistryDatabase

    dep = _dep(deployment)
    places_for(city)  # refuse an unknown city before touching any database
    db = RegistryDatabase.for_city(dep, city)
    db.migrate()
    day = _date(as_of, "--as-of")
    started = time.perf_counter()
    with Progress(
        TextColumn("[bold]generating[/bold]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=False,
    ) as progress:
        task = progress.add_task("residents", total=residents)
        summary = generate_city(
            db,
            city_code=city,
            residents=residents,
            seed=seed,
            as_of=day,
            loaded_at=SystemClock().now(),
            progress=lambda n: progress.advance(task, n),
        )
    elapsed = time.perf_counter() - started
    db.dispose()
    console = Console()
    console.print(
        f"city {summary.city_code}: {summary.residents} residents in {summary.households} households "
        f"({sum(summary.rows.values())} rows) in {elapsed:.1f} s; tax data as of {summary.tax_as_of}"
    )


@app.command(name="show-person")
def show_person(city: CityOpt, person: PersonOpt, deployment: DeploymentOpt = Path(".")) -> None:
    """Show one person's residence record and household (staff screen; nothing is logged)."""
    from yakuba.wareki import format_wareki

    reg = _registry(deployment, city)
    with reg.db.transaction() as tx:
        p = tx.fetch_person(person)
        view = tx.fetch_household_view(p.household_id)
        seal = tx.fetch_live_seal(p.id)
        cards = tx.fetch_active_cards(p.id)
    table = Table(title=f"person {p.id}", show_header=False)
    table.add_column("field")
    table.add_column("value", overflow="fold")
    rows = [
        ("name", p.name.full + (f" ({p.name.full_kana})" if p.name.full_kana else "")),
        ("former surname", p.former_surname or "-"),
        ("born", f"{format_wareki(p.birth_date)} ({p.birth_date.isoformat()})"),
        ("sex", p.sex.ja),
        ("nationality", p.nationality),
        ("address", str(p.address)),
        ("relationship", p.relationship),
        ("status", p.status.value),
        ("本籍 / 筆頭者", f"{p.honseki or '-'} / {p.hittosha or '-'}"),
        ("support measure", "yes" if p.support_measure else "no"),
        ("seal", seal.registration_number if seal else "none"),
        ("cards", ", ".join(c.serial for c in cards) or "none"),
        ("household members", ", ".join(f"{m.id}:{m.relationship}" for m in view.members)),
    ]
    for key, value in rows:
        table.add_row(key, value)
    Console().print(table)


@app.command()
def find(
    city: CityOpt,
    name: Annotated[str, typer.Option("--name", help="Part of a name, in kanji or kana.")],
    deployment: DeploymentOpt = Path("."),
) -> None:
    """Find people by part of their name."""
    reg = _registry(deployment, city)
    with reg.db.transaction() as tx:
        found = tx.find_persons(text=name, limit=FIND_LIMIT)
    table = Table(title=f"{len(found)} found (at most {FIND_LIMIT})")
    for column in ("id", "name", "born", "status", "address"):
        table.add_column(column, overflow="fold")
    for p in found:
        table.add_row(str(p.id), p.name.full, p.birth_date.isoformat(), p.status.value, str(p.address))
    Console().print(table)


@app.command(name="tax-batch")
def tax_batch(city: CityOpt, deployment: DeploymentOpt = Path(".")) -> None:
    """Run the nightly tax batch: a new snapshot of the tax data, as of yesterday."""
    from yakuba.registry import run_tax_batch

    reg = _registry(deployment, city)
    snapshot = run_tax_batch(reg.db.transaction, clock=SystemClock())
    Console().print(f"tax snapshot {snapshot.id} as of {snapshot.as_of}")


# --- life events -------------------------------------------------------------------------------------------


def _done(what: str, person_id: int) -> None:
    Console().print(f"recorded: {what} for person {person_id}")


@event_app.command(name="move-within")
def move_within(
    city: CityOpt,
    person: PersonOpt,
    town: Annotated[str, typer.Option("--town", help="町名, e.g. 南町.")],
    ban: Annotated[int, typer.Option("--ban", help="番 (or 番地 for towns without 丁目).")],
    chome: Annotated[int | None, typer.Option("--chome", help="丁目.")] = None,
    go: Annotated[int | None, typer.Option("--go", help="号.")] = None,
    building: Annotated[str | None, typer.Option("--building", help="Building and room.")] = None,
    alone: Annotated[bool, typer.Option("--alone", help="Move the person alone, as head of a new household.")] = False,
    on: DateOpt = None,
    deployment: DeploymentOpt = Path("."),
) -> None:
    """転居: move within the city (the whole household unless --alone); card certificates are revoked."""
    from yakuba.registry import Address

    reg = _registry(deployment, city)
    address = Address(
        prefecture=reg.city.prefecture, city=reg.city.name, town=town, chome=chome, ban=ban, go=go, building=building
    )
    reg.events.move_within(person_id=person, address=address, moved_on=_date(on), whole_household=not alone)
    _done("move within the city", person)


def _destination(prefecture: str, city_name: str, town: str, ban: int, chome: int | None, go: int | None) -> Address:
    from yakuba.registry import Address

    return Address(prefecture=prefecture, city=city_name, town=town, chome=chome, ban=ban, go=go)


@event_app.command(name="file-move-out")
def file_move_out(
    city: CityOpt,
    person: PersonOpt,
    planned: Annotated[str, typer.Option("--planned", help="Planned move-out date, YYYY-MM-DD.")],
    dest_prefecture: Annotated[str, typer.Option("--dest-prefecture")],
    dest_city: Annotated[str, typer.Option("--dest-city")],
    dest_town: Annotated[str, typer.Option("--dest-town")],
    dest_ban: Annotated[int, typer.Option("--dest-ban")],
    dest_chome: Annotated[int | None, typer.Option("--dest-chome")] = None,
    dest_go: Annotated[int | None, typer.Option("--dest-go")] = None,
    deployment: DeploymentOpt = Path("."),
) -> None:
    """転出届: the person will move out on the planned date."""
    reg = _registry(deployment, city)
    destination = _destination(dest_prefecture, dest_city, dest_town, dest_ban, dest_chome, dest_go)
    reg.events.file_move_out(person_id=person, planned_on=_date(planned, "--planned"), destination=destination)
    _done("move-out filed", person)


@event_app.command(name="move-out")
def move_out(city: CityOpt, person: PersonOpt, on: DateOpt = None, deployment: DeploymentOpt = Path(".")) -> None:
    """転出: the person leaves (to the destination filed); seal ended, card certificate revoked."""
    reg = _registry(deployment, city)
    reg.events.move_out(person_id=person, moved_out_on=_date(on))
    _done("move-out", person)


@event_app.command()
def death(city: CityOpt, person: PersonOpt, on: DateOpt = None, deployment: DeploymentOpt = Path(".")) -> None:
    """死亡: the record becomes a 除票; seal ended, card certificate revoked."""
    reg = _registry(deployment, city)
    day = _date(on)
    reg.events.death(person_id=person, died_on=day, filed_on=max(day, _date(None)))
    _done("death", person)


@event_app.command()
def birth(
    city: CityOpt,
    parent: Annotated[int, typer.Option("--parent", help="A parent's person id (the child joins that household).")],
    given: Annotated[str, typer.Option("--given", help="Given name in kanji.")],
    given_kana: Annotated[str, typer.Option("--given-kana", help="Its reading in katakana.")],
    sex: Annotated[str, typer.Option("--sex", help="male or female.")],
    on: DateOpt = None,
    deployment: DeploymentOpt = Path("."),
) -> None:
    """出生: a child born to a resident."""
    from yakuba.registry import NewPerson, PersonName, Sex

    if sex not in ("male", "female"):
        raise ValidationError("--sex: male or female", ja="--sex: male か female です")
    reg = _registry(deployment, city)
    with reg.db.transaction() as tx:
        parent_name = tx.fetch_person(parent).name
    name = PersonName(
        family=parent_name.family, given=given, family_kana=parent_name.family_kana, given_kana=given_kana
    )
    day = _date(on)
    child = reg.events.birth(
        NewPerson(name=name, birth_date=day, sex=Sex(sex)), parent_id=parent, filed_on=max(day, _date(None))
    )
    _done(f"birth (new person {child.id})", parent)


@event_app.command(name="name-change")
def name_change(
    city: CityOpt,
    person: PersonOpt,
    family: Annotated[str, typer.Option("--family")],
    given: Annotated[str, typer.Option("--given")],
    family_kana: Annotated[str | None, typer.Option("--family-kana")] = None,
    given_kana: Annotated[str | None, typer.Option("--given-kana")] = None,
    keep_former: Annotated[bool, typer.Option("--register-former-surname", help="Register 旧氏.")] = False,
    on: DateOpt = None,
    deployment: DeploymentOpt = Path("."),
) -> None:
    """氏名の変更: the card certificate is revoked."""
    from yakuba.registry import PersonName

    reg = _registry(deployment, city)
    name = PersonName(family=family, given=given, family_kana=family_kana, given_kana=given_kana)
    reg.events.change_name(person_id=person, name=name, changed_on=_date(on), register_former_surname=keep_former)
    _done("name change", person)


@event_app.command(name="seal-register")
def seal_register(
    city: CityOpt,
    person: PersonOpt,
    image: Annotated[Path | None, typer.Option("--image", help="PNG scan of the seal (default: drawn).")] = None,
    deployment: DeploymentOpt = Path("."),
) -> None:
    """印鑑登録: register the person's seal impression."""
    from yakuba.registry._seal_image import draw_impression

    reg = _registry(deployment, city)
    if image is not None:
        try:
            png = image.read_bytes()
        except OSError as exc:
            raise ValidationError(f"{image}: cannot read", ja=f"{image}: 読み込めません") from exc
    else:
        with reg.db.transaction() as tx:
            png = draw_impression(tx.fetch_person(person).name.family)
    seal = reg.events.register_seal(person_id=person, impression_png=png)
    _done(f"seal registration {seal.registration_number}", person)


@event_app.command(name="seal-deregister")
def seal_deregister(city: CityOpt, person: PersonOpt, deployment: DeploymentOpt = Path(".")) -> None:
    """印鑑登録廃止: from now on the seal is not certifiable."""
    reg = _registry(deployment, city)
    reg.events.deregister_seal(person_id=person)
    _done("seal de-registration", person)


@event_app.command(name="support-measure")
def support_measure(
    city: CityOpt,
    person: PersonOpt,
    on: Annotated[bool, typer.Option("--on/--off", help="Start or end the DV/stalker support measure.")],
    deployment: DeploymentOpt = Path("."),
) -> None:
    """支援措置 on or off."""
    reg = _registry(deployment, city)
    reg.events.set_support_measure(person_id=person, on=on)
    _done("support measure " + ("on" if on else "off"), person)
