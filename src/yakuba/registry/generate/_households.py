"""Household compositions of the synthetic city: who lives together, their ages, names and relationships."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from yakuba.registry._values import Address, PersonName, Sex, kanji_numeral
from yakuba.registry.generate._names import FOREIGN_NATIONALITIES, NamePools
from yakuba.registry.generate._places import BUILDING_STEMS, CityPlaces

__all__ = ["AGE_PYRAMID", "HOUSEHOLD_KINDS", "Member", "Plan", "plan_household", "random_address", "random_honseki"]

AGE_PYRAMID = (
    3.9,
    4.1,
    4.3,
    4.4,
    5.3,
    5.6,
    5.7,
    6.2,
    6.8,
    8.0,
    7.9,
    6.5,
    5.4,
    5.4,
    6.6,
    5.3,
    4.0,
    2.5,
    1.1,
    0.3,
    0.05,
)
"""Share of residents per 5-year age band 0-4 ... 100+ (a Tokyo-suburb shape after the 2020 census)."""

HOUSEHOLD_KINDS = (
    ("single", 38),
    ("couple", 23),
    ("couple_children", 21),
    ("single_parent", 8),
    ("three_generations", 5),
    ("foreign", 4),
)
"""Household kinds and their weights (Tokyo suburbs: about 2.1 persons per household, many singles)."""

BAND_YEARS = 5

ELDERLY_SINGLE_SHARE = 0.42
"""Share of one-person households whose member is 65 or over (Tokyo suburbs, 2020 census: about 4 in 10)."""

ELDERLY_COUPLE_SHARE = 0.6
"""Share of couple-only households headed by someone 60 or over (mostly empty nesters)."""


@dataclass(slots=True, kw_only=True)
class Member:
    """One person planned for a household."""

    name: PersonName
    sex: Sex
    birth_date: dt.date
    relationship: str  # 続柄 to the head: 世帯主, 妻, 夫, 子, 父, 母
    role: str  # head, spouse, child, parent_father, parent_mother
    nationality: str = "JP"
    former_surname: tuple[str, str] | None = None


@dataclass(slots=True, kw_only=True)
class Plan:
    """A household planned: kind, members (head first), address and when it was set up."""

    kind: str
    members: list[Member] = field(default_factory=list)
    address: Address
    created_on: dt.date


def _age_band(rng: random.Random, low: int, high: int) -> int:
    """An age in [LOW, HIGH] following the pyramid."""
    bands = [
        (i * BAND_YEARS, w)
        for i, w in enumerate(AGE_PYRAMID)
        if low <= i * BAND_YEARS + BAND_YEARS - 1 and i * BAND_YEARS <= high
    ]
    start = rng.choices([b for b, _ in bands], weights=[w for _, w in bands])[0]
    return max(low, min(high, start + rng.randrange(BAND_YEARS)))


def _birth(rng: random.Random, as_of: dt.date, age: int) -> dt.date:
    """A birth date giving AGE on AS_OF."""
    latest = (
        as_of.replace(year=as_of.year - age)
        if not (as_of.month == 2 and as_of.day == 29)
        else dt.date(as_of.year - age, 2, 28)
    )
    return latest - dt.timedelta(days=rng.randrange(365))


def random_address(rng: random.Random, places: CityPlaces) -> Address:
    """A plausible address in PLACES: a real town, a 丁目 in its range, 番 and 号, sometimes a building."""
    town, chome_count = rng.choice(places.towns)
    building = None
    if rng.random() < 0.45:
        stem = rng.choice(BUILDING_STEMS)
        short = town.removesuffix("町") or town
        building = f"{short}{stem} {rng.randint(1, 5)}{rng.randint(1, 12):02d}"
    if chome_count:
        return Address(
            prefecture=places.prefecture,
            city=places.name,
            town=town,
            chome=rng.randint(1, chome_count),
            ban=rng.randint(1, 30),
            go=rng.randint(1, 25),
            building=building,
        )
    return Address(
        prefecture=places.prefecture, city=places.name, town=town, ban=rng.randint(100, 2999), building=building
    )


def random_honseki(rng: random.Random, places: CityPlaces) -> str:
    """A 本籍 in PLACES, written as registers write it (丁目 and 番地)."""
    town, chome_count = rng.choice(places.towns)
    if chome_count:
        chome = kanji_numeral(rng.randint(1, chome_count))
        return f"{places.prefecture}{places.name}{town}{chome}丁目{rng.randint(1, 30)}番地"
    return f"{places.prefecture}{places.name}{town}{rng.randint(100, 2999)}番地"


def _japanese(
    rng: random.Random,
    names: NamePools,
    as_of: dt.date,
    surname: tuple[str, str],
    *,
    sex: Sex,
    age: int,
    relationship: str,
    role: str,
) -> Member:
    return Member(
        name=names.japanese(rng, sex, surname),
        sex=sex,
        birth_date=_birth(rng, as_of, age),
        relationship=relationship,
        role=role,
    )


def _children(
    rng: random.Random, names: NamePools, as_of: dt.date, surname: tuple[str, str], parent_age: int, count: int
) -> list[Member]:
    # Mothers in Japan have their children at about 26-40; adult children often still live at home.
    ages = sorted((max(0, parent_age - rng.randint(26, 40)) for _ in range(count)), reverse=True)
    return [
        _japanese(
            rng, names, as_of, surname, sex=rng.choice((Sex.MALE, Sex.FEMALE)), age=a, relationship="子", role="child"
        )
        for a in ages
    ]


def plan_household(
    rng: random.Random, names: NamePools, places: CityPlaces, as_of: dt.date, *, long_name: bool = False
) -> Plan:
    """One household: kind by weight, members with ages from the pyramid, an address and a set-up date."""
    kind = "foreign" if long_name else rng.choices([k for k, _ in HOUSEHOLD_KINDS], [w for _, w in HOUSEHOLD_KINDS])[0]
    members: list[Member] = []
    surname = names.surname(rng)
    if kind == "single":
        age = _age_band(rng, 65, 100) if rng.random() < ELDERLY_SINGLE_SHARE else _age_band(rng, 18, 64)
        sex = Sex.FEMALE if age >= 75 and rng.random() < 0.7 else rng.choice((Sex.MALE, Sex.FEMALE))
        members.append(_japanese(rng, names, as_of, surname, sex=sex, age=age, relationship="世帯主", role="head"))
    elif kind == "foreign":
        nationality = rng.choices([n for n, _ in FOREIGN_NATIONALITIES], [w for _, w in FOREIGN_NATIONALITIES])[0]
        age = _age_band(rng, 20, 60)
        sex = rng.choice((Sex.MALE, Sex.FEMALE))
        head = Member(
            name=names.foreign(rng, nationality, sex, long=long_name),
            sex=sex,
            birth_date=_birth(rng, as_of, age),
            relationship="世帯主",
            role="head",
            nationality=nationality,
        )
        members.append(head)
        if rng.random() < 0.35:
            other = Sex.FEMALE if sex is Sex.MALE else Sex.MALE
            spouse_name = names.foreign(rng, nationality, other)
            members.append(
                Member(
                    name=spouse_name,
                    sex=other,
                    birth_date=_birth(rng, as_of, max(18, age + rng.randint(-4, 4))),
                    relationship="妻" if other is Sex.FEMALE else "夫",
                    role="spouse",
                    nationality=nationality,
                )
            )
    else:
        if kind == "couple":
            age = _age_band(rng, 60, 95) if rng.random() < ELDERLY_COUPLE_SHARE else _age_band(rng, 22, 59)
        elif kind == "three_generations":
            age = rng.randint(32, 55)
        else:
            age = rng.randint(27, 66)
        if kind == "single_parent":
            members.append(
                _japanese(rng, names, as_of, surname, sex=Sex.FEMALE, age=age, relationship="世帯主", role="head")
            )
        else:
            members.append(
                _japanese(rng, names, as_of, surname, sex=Sex.MALE, age=age, relationship="世帯主", role="head")
            )
            wife = _japanese(
                rng,
                names,
                as_of,
                surname,
                sex=Sex.FEMALE,
                age=max(18, age + rng.randint(-5, 3)),
                relationship="妻",
                role="spouse",
            )
            members.append(wife)
        if kind in ("couple_children", "single_parent", "three_generations"):
            count = rng.choices((1, 2, 3), weights=(50, 40, 10))[0]
            members.extend(_children(rng, names, as_of, surname, age, count))
        if kind == "three_generations":
            parent_age = min(100, age + rng.randint(25, 33))
            members.append(
                _japanese(
                    rng, names, as_of, surname, sex=Sex.MALE, age=parent_age, relationship="父", role="parent_father"
                )
            )
            if rng.random() < 0.8:
                members.append(
                    _japanese(
                        rng,
                        names,
                        as_of,
                        surname,
                        sex=Sex.FEMALE,
                        age=max(18, parent_age - rng.randint(0, 4)),
                        relationship="母",
                        role="parent_mother",
                    )
                )
    head = members[0]
    adult_since = (
        head.birth_date.replace(year=head.birth_date.year + 18)
        if head.birth_date.month != 2 or head.birth_date.day != 29
        else dt.date(head.birth_date.year + 18, 3, 1)
    )
    span = max(1, (as_of - max(adult_since, as_of - dt.timedelta(days=365 * 30))).days)
    created_on = as_of - dt.timedelta(days=rng.randrange(span))
    return Plan(kind=kind, members=members, address=random_address(rng, places), created_on=created_on)
