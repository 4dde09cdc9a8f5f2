"""A synthetic town ready for issuance: generated registries and virtual cards for residents picked by situation.

Used by `yakuba demo`, the integration tests and the benchmarks, so all three exercise the same cases: a
plain adult household, a registered seal, a family register in the city, and the residents a kiosk must
refuse (support measures, under 15, a household with a filed move-out).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import jpholiday

from yakuba.clock import JST, Clock
from yakuba.config import Deployment
from yakuba.registry import (
    Address,
    Person,
    RegistryDatabase,
    ResidentStatus,
    SqlRegistryTransaction,
    enrol_resident_card,
    fiscal_year_on,
    generate_city,
    open_city_registry,
)

__all__ = ["CLOSED_DAYS", "SampleTown", "Situation", "TownCard", "next_open_weekday"]

PEOPLE_SCANNED = 100_000
"""Upper bound of persons looked at when picking residents; a demo town is far smaller."""

ADULT_AGE = 20
"""Residents picked for the ordinary cases are adults, well clear of the 15-year rule."""

ELSEWHERE = Address(prefecture="東京都", city="武蔵野市", town="中町", chome=1, ban=1, go=1)
"""Where the sample's mover is moving to (another city)."""

CLOSED_DAYS = frozenset({(12, 29), (12, 30), (12, 31), (1, 1), (1, 2), (1, 3)})
"""The nationwide service is closed 29 December to 3 January."""


class Situation(enum.StrEnum):
    """Why a resident was picked."""

    HOUSEHOLD = "household"
    """An adult resident with tax data: residence records, tax and income certificates."""
    SEAL = "seal"
    """An adult with a live seal registration: 印鑑登録証明書."""
    KOSEKI = "koseki"
    """An adult whose family register is in this city, with no filing pending: 戸籍, 附票."""
    SUPPORT_MEASURE = "support_measure"
    """Under DV/stalker support measures: every kiosk issuance must be refused."""
    UNDER_15 = "under_15"
    """A child with a card: kiosk issuance refused by age."""
    PENDING_MOVE_OUT = "pending_move_out"
    """In a household where a member has filed a move-out: residence records refused."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TownCard:
    """A resident's card in the town; the PIN is the one-time PIN the counter handed over."""

    city_code: str
    person_id: int
    situation: Situation
    path: Path
    pin: str
    serial: str


def next_open_weekday(after: dt.datetime) -> dt.datetime:
    """10:00 JST on the first weekday after AFTER that is neither a national holiday (祝日, 振替休日, 国民の休日)
    nor in the year-end closure: a time every rule allows, family registers included."""
    day = after.astimezone(JST).date() + dt.timedelta(days=1)
    while day.weekday() >= 5 or (day.month, day.day) in CLOSED_DAYS or jpholiday.is_holiday(day):
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(10, 0), tzinfo=JST)


@dataclass(frozen=True, slots=True, kw_only=True)
class SampleTown:
    """Generated registries of every city of a deployment and the cards handed out in them."""

    cards: tuple[TownCard, ...]

    @classmethod
    def create(cls, dep: Deployment, *, clock: Clock, residents: int, seed: int) -> SampleTown:
        """Generate each city (RESIDENTS each, deterministic for SEED) and enrol one card per situation found."""
        now = clock.now()
        cards: list[TownCard] = []
        folder = dep.state_dir / "cards"
        folder.mkdir(parents=True, exist_ok=True)
        for offset, city in enumerate(dep.cities):
            registry = open_city_registry(dep, city.code, clock=clock)
            generate_city(
                registry.db,
                city_code=city.code,
                residents=residents,
                seed=seed + offset,
                as_of=now.astimezone(JST).date(),
                loaded_at=now,
            )
            for situation, person_id, mover in _pick(registry.db, now.astimezone(JST).date()):
                enrolled = enrol_resident_card(
                    dep,
                    registry.events,
                    city_code=city.code,
                    person_id=person_id,
                    path=folder / f"{city.code}-{situation.value}.card",
                    clock=clock,
                )
                if mover is not None:  # make the situation: a household member files a move-out
                    registry.events.file_move_out(
                        person_id=mover, planned_on=now.date() + dt.timedelta(days=14), destination=ELSEWHERE
                    )
                cards.append(
                    TownCard(
                        city_code=city.code,
                        person_id=person_id,
                        situation=situation,
                        path=enrolled.path,
                        pin=enrolled.one_time_pin,
                        serial=enrolled.serial,
                    )
                )
        return cls(cards=tuple(cards))

    def card(self, situation: Situation, *, city_code: str | None = None) -> TownCard:
        """The card picked for SITUATION (in CITY_CODE when given)."""
        for card in self.cards:
            if card.situation is situation and (city_code is None or card.city_code == city_code):
                return card
        raise LookupError(f"no resident in situation {situation.value}")


def _pick(db: RegistryDatabase, today: dt.date) -> Iterator[tuple[Situation, int, int | None]]:
    """One person per situation, the first found in id order (deterministic for a generated city); for a
    pending move-out with none in the city yet, also the household member who is to file one."""
    wanted = list(Situation)
    taken: set[int] = set()
    with db.transaction() as tx:
        for person in tx.find_persons(text="", limit=PEOPLE_SCANNED):
            if not wanted:
                return
            if person.id in taken or person.status is not ResidentStatus.RESIDENT:
                continue  # a person who moved out, died or filed a move-out cannot be given a card
            household = tx.fetch_household_for_certificate(person.id)
            age = person.age_on(today)
            situation = _situation_of(tx, person, household.has_pending_move_out, age, today, wanted)
            mover = None
            if situation is None and Situation.PENDING_MOVE_OUT in wanted and age >= ADULT_AGE:
                others = [m.id for m in household.members if m.id != person.id and m.id not in taken]
                if others and not person.support_measure and not household.has_pending_move_out:
                    situation, mover = Situation.PENDING_MOVE_OUT, others[-1]
            if situation is None:
                continue
            wanted.remove(situation)
            taken.add(person.id)
            if mover is not None:
                taken.add(mover)
            yield situation, person.id, mover


def _situation_of(
    tx: SqlRegistryTransaction,
    person: Person,
    pending_move_out: bool,
    age: int,
    today: dt.date,
    wanted: list[Situation],
) -> Situation | None:
    if Situation.SUPPORT_MEASURE in wanted and person.support_measure and age >= ADULT_AGE:
        return Situation.SUPPORT_MEASURE
    if person.support_measure or person.resident_since == today:
        return None
    if Situation.UNDER_15 in wanted and age < 15:
        return Situation.UNDER_15
    if age < ADULT_AGE:
        return None
    if Situation.PENDING_MOVE_OUT in wanted and pending_move_out:
        return Situation.PENDING_MOVE_OUT
    if pending_move_out:
        return None
    if Situation.SEAL in wanted and tx.fetch_live_seal(person.id) is not None:
        return Situation.SEAL
    if Situation.KOSEKI in wanted and person.koseki_register_id is not None:
        register = tx.fetch_register(person.koseki_register_id)
        if not register.pending_filings:
            return Situation.KOSEKI
    if (
        Situation.HOUSEHOLD in wanted
        and tx.fetch_tax_statement(person_id=person.id, fiscal_year=fiscal_year_on(today)) is not None
    ):
        return Situation.HOUSEHOLD
    return None
