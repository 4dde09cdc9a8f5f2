"""The run's residents: generated cities and many virtual cards, each with the kinds its holder may ask for."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from yakuba.clock import JST, Clock
from yakuba.config import Deployment
from yakuba.registry import (
    RegistryDatabase,
    ResidentStatus,
    enrol_resident_card,
    fiscal_year_on,
    generate_city,
    open_city_registry,
)

__all__ = ["TortureCard", "make_cards"]

ADULT_AGE = 20


@dataclass(frozen=True, slots=True, kw_only=True)
class TortureCard:
    """A resident's card and what the run may ask with it; the name is for the checks, never logged."""

    city_code: str
    person_id: int
    path: Path
    pin: str
    kinds: tuple[str, ...]
    """Kinds the holder should get; empty for a holder every kiosk must refuse."""
    refusal_kind: str | None
    """The kind asked for a holder who must be refused (support measure, under 15)."""
    name: str


def make_cards(
    dep: Deployment,
    *,
    clock: Clock,
    residents: int,
    seed: int,
    per_city: int,
    on_card: Callable[[], None] | None = None,
) -> list[TortureCard]:
    """Generate each city and enrol up to PER_CITY cards in it: mostly adults with the kinds they can get, and
    about one in ten a holder who must be refused."""
    now = clock.now()
    today = now.astimezone(JST).date()
    folder = dep.state_dir / "cards"
    folder.mkdir(parents=True, exist_ok=True)
    cards: list[TortureCard] = []
    for offset, city in enumerate(dep.cities):
        registry = open_city_registry(dep, city.code, clock=clock)
        try:
            generate_city(
                registry.db, city_code=city.code, residents=residents, seed=seed + offset, as_of=today, loaded_at=now
            )
            picked = _pick(registry.db, today, per_city)
            for person_id, kinds, refusal_kind, name in picked:
                enrolled = enrol_resident_card(
                    dep,
                    registry.events,
                    city_code=city.code,
                    person_id=person_id,
                    path=folder / f"{city.code}-{person_id}.card",
                    clock=clock,
                )
                cards.append(
                    TortureCard(
                        city_code=city.code,
                        person_id=person_id,
                        path=enrolled.path,
                        pin=enrolled.one_time_pin,
                        kinds=kinds,
                        refusal_kind=refusal_kind,
                        name=name,
                    )
                )
                if on_card is not None:
                    on_card()
        finally:
            registry.db.dispose()
    return cards


def _pick(db: RegistryDatabase, today: dt.date, limit: int) -> list[tuple[int, tuple[str, ...], str | None, str]]:
    """Residents in id order (deterministic for a generated city): adults with the kinds each can get, and a
    tenth who must be refused (a support measure, under 15)."""
    refusals_wanted = max(1, limit // 10)
    picked: list[tuple[int, tuple[str, ...], str | None, str]] = []
    refusals = 0
    with db.transaction() as tx:
        for person in tx.find_persons(text="", limit=100_000):
            if len(picked) >= limit:
                break
            if person.status is not ResidentStatus.RESIDENT or person.resident_since == today:
                continue
            age = person.age_on(today)
            if person.support_measure or age < 15:
                if refusals < refusals_wanted and age >= 1:
                    refusals += 1
                    picked.append((person.id, (), "juminhyo", person.name.full))
                continue
            if age < ADULT_AGE:
                continue
            household = tx.fetch_household_for_certificate(person.id)
            if household.has_pending_move_out:
                continue
            kinds = ["juminhyo"]
            if tx.fetch_tax_statement(person_id=person.id, fiscal_year=fiscal_year_on(today)) is not None:
                kinds += ["kazei", "shotoku"]
            if tx.fetch_live_seal(person.id) is not None:
                kinds.append("inkan")
            if (
                person.koseki_register_id is not None
                and not tx.fetch_register(person.koseki_register_id).pending_filings
            ):
                kinds.append("koseki-zenbu")
            picked.append((person.id, tuple(kinds), None, person.name.full))
    return picked
