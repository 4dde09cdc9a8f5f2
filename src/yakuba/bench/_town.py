"""The run's deployment: the sample's cities, chains and roles with many more kiosks, generated registries and
one card per picked resident."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import tomli_w

from yakuba.clock import JST, Clock
from yakuba.config import CONFIG_FILE_NAME, SAMPLE_PORTS, Deployment, load_deployment, sample_deployment
from yakuba.errors import ConfigError
from yakuba.network.ports import free_port_block
from yakuba.network.run_databases import use_databases
from yakuba.pki import add_lapsed_serials, init_pki
from yakuba.registry import RegistryDatabase, ResidentStatus, enrol_resident_card, generate_city, open_city_registry

__all__ = ["BenchCard", "BenchTown", "create_town"]

ADULT_AGE = 20
"""Picked residents are adults: nothing about age can refuse them."""

MAX_HOUSEHOLD = 4
"""Picked residents live in households of at most this many: their 住民票の写し is one page."""

PEOPLE_SCANNED = 100_000
"""Upper bound of persons looked at when picking residents."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BenchCard:
    """A picked resident's card (the PIN is the one-time PIN the counter handed over)."""

    city_code: str
    path: Path
    pin: str


@dataclass(frozen=True, slots=True, kw_only=True)
class BenchTown:
    dep: Deployment
    config_path: Path
    kiosks: tuple[str, ...]
    cards: tuple[BenchCard, ...]


def create_town(
    folder: Path,
    *,
    kiosks: int,
    cards: int,
    residents: int,
    clock: Clock,
    seed: int = 2016,
    databases: dict[str, str] | None = None,
    revoked: int = 0,
    step: Callable[[str], None] | None = None,
) -> BenchTown:
    """Write the deployment into FOLDER (KIOSKS kiosks spread over the sample's store chains, a free block of
    loopback ports), make its PKI, generate each city (RESIDENTS each) and enrol CARDS cards, alternating
    between the cities, for adults whose 住民票の写し a kiosk issues. DATABASES gives instances another database
    URL than their SQLite file (PostgreSQL for the center and the issuers). REVOKED serials of lapsed cards are
    added to the JPKI's CRL (none of them a bench card). STEP is told what is being done."""
    say = step or (lambda _text: None)
    config_path = _write_config(folder, kiosks=kiosks, databases=databases or {})
    dep = load_deployment(config_path)
    dep.state_dir.mkdir(mode=0o750, exist_ok=True)
    say("making the PKI")
    init_pki(dep)  # the real clock: OpenSSL checks the service certificates against it
    today = clock.now().astimezone(JST).date()
    picked: dict[str, Iterator[int]] = {}
    registries = {}
    for offset, city in enumerate(dep.cities):
        say(f"generating {residents} residents of {city.name_en}")
        registry = open_city_registry(dep, city.code, clock=clock)
        generate_city(
            registry.db,
            city_code=city.code,
            residents=residents,
            seed=seed + offset,
            as_of=today,
            loaded_at=clock.now(),
        )
        registries[city.code] = registry
        picked[city.code] = iter(_eligible(registry.db, today))
    folder_cards = dep.state_dir / "cards"
    folder_cards.mkdir(parents=True, exist_ok=True)
    made: list[BenchCard] = []
    codes = [city.code for city in dep.cities]
    for index in range(cards):
        code = codes[index % len(codes)]
        person_id = next(picked[code], None)
        if person_id is None:
            raise ConfigError(f"not enough eligible residents for {cards} cards: generate more residents")
        say(f"enrolling card {index + 1} of {cards}")
        enrolled = enrol_resident_card(
            dep,
            registries[code].events,
            city_code=code,
            person_id=person_id,
            path=folder_cards / f"{code}-{index:04d}.card",
            clock=clock,
        )
        made.append(BenchCard(city_code=code, path=enrolled.path, pin=enrolled.one_time_pin))
    if revoked:  # after the cards are made, so no serial of theirs is listed
        say(f"listing {revoked:,} lapsed cards on the JPKI's CRL")
        add_lapsed_serials(dep, revoked, seed=seed)
    store_kiosks = tuple(k.instance for chain, k in dep.kiosks() if chain.kind == "store")
    return BenchTown(dep=dep, config_path=config_path, kiosks=store_kiosks, cards=tuple(made))


def _write_config(folder: Path, *, kiosks: int, databases: dict[str, str]) -> Path:
    """The sample deployment with its store chains' kiosks replaced by KIOSKS bench kiosks, and the DATABASES
    given for some instances."""
    if kiosks < 1:
        raise ConfigError("at least one kiosk is needed")
    base = free_port_block(SAMPLE_PORTS + kiosks)
    data = sample_deployment(name="bench", base_port=base)
    stores = [chain for chain in data["chains"] if chain["kind"] == "store"]
    for chain in stores:
        chain["kiosks"] = []
    for index in range(kiosks):
        chain = stores[index % len(stores)]
        instance = f"{chain['id']}-bench-{index + 1}"
        chain["kiosks"].append(
            {
                "instance": instance,
                "host": "127.0.0.1",
                "port": base + SAMPLE_PORTS + index,
                "database": f"sqlite:///{instance}.sqlite3",
                "location": f"{chain['name']} ベンチ{index + 1}号店",
            }
        )
    use_databases(data, databases)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / CONFIG_FILE_NAME
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


def _eligible(db: RegistryDatabase, today: dt.date) -> Iterator[int]:
    """Adults resident here, under no support measure, not new today, in a small household with no filed
    move-out: a kiosk issues their 住民票の写し."""
    with db.transaction() as tx:
        persons = tx.find_persons(text="", limit=PEOPLE_SCANNED)
        chosen = []
        for person in persons:
            if person.status is not ResidentStatus.RESIDENT or person.support_measure:
                continue
            if person.resident_since == today or person.age_on(today) < ADULT_AGE:
                continue
            household = tx.fetch_household_for_certificate(person.id)
            if household.has_pending_move_out or len(household.members) > MAX_HOUSEHOLD:
                continue
            chosen.append(person.id)
    yield from chosen
