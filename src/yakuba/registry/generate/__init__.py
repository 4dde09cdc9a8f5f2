"""A realistic synthetic city, deterministic for a seed and an as-of date: `generate_city(...)`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from yakuba.registry.errors import EventRefusedError, UnknownCityError
from yakuba.registry.generate._households import AGE_PYRAMID, HOUSEHOLD_KINDS
from yakuba.registry.generate._places import KNOWN_CITIES, CityPlaces, places_of
from yakuba.registry.generate._population import EDGE_CASES, PopulationBuilder
from yakuba.registry.store import RegistryDatabase
from yakuba.registry.store._bulk import insert_batch, is_registry_empty, reset_sequences
from yakuba.registry.store._tax import copy_assessments_to_snapshot

__all__ = [
    "AGE_PYRAMID",
    "BATCH_HOUSEHOLDS",
    "EDGE_CASES",
    "HOUSEHOLD_KINDS",
    "KNOWN_CITIES",
    "GenerationSummary",
    "generate_city",
    "places_for",
]

BATCH_HOUSEHOLDS = 2_000
"""Households per transaction: big enough for executemany to pay off, small enough to show progress."""


@dataclass(frozen=True, slots=True, kw_only=True)
class GenerationSummary:
    """What the generator wrote."""

    city_code: str
    residents: int
    households: int
    rows: dict[str, int]
    tax_as_of: dt.date


def places_for(city_code: str) -> CityPlaces:
    """The generator's town list for CITY_CODE, or UnknownCityError."""
    places = places_of(city_code)
    if places is None:
        raise UnknownCityError(
            f"the generator has no town list for city {city_code} (it knows {', '.join(KNOWN_CITIES)})",
            ja=f"市区町村 {city_code} の町名一覧がありません",
        )
    return places


def generate_city(
    db: RegistryDatabase,
    *,
    city_code: str,
    residents: int,
    seed: int,
    as_of: dt.date,
    loaded_at: dt.datetime,
    progress: Callable[[int], None] | None = None,
) -> GenerationSummary:
    """Fill an empty registry with about RESIDENTS current residents (plus moved-out and deceased records).

    The tax system's data is loaded as of the day before AS_OF, as the nightly batch would have left it.
    PROGRESS is called with the number of residents added after each batch.
    """
    if residents < 1:
        raise EventRefusedError("generate at least one resident", ja="住民数は1以上です")
    places = places_for(city_code)
    with db.session() as session:
        if not is_registry_empty(session):
            raise EventRefusedError(
                "the registry already holds people; generate into an empty database",
                ja="住民記録がすでにあります。空のデータベースに生成してください",
            )
    builder = PopulationBuilder(places=places, seed=seed, as_of=as_of, loaded_at=loaded_at)
    counts: dict[str, int] = {}
    while builder.residents < residents:
        before = builder.residents
        for _ in range(BATCH_HOUSEHOLDS):
            builder.add_household()
            if builder.residents >= residents:
                break
        rows = builder.take()
        for name, batch in rows.items():
            counts[name] = counts.get(name, 0) + len(batch)
        with db.session() as session:
            insert_batch(session, rows)
        if progress is not None:
            progress(builder.residents - before)
    tax_as_of = as_of - dt.timedelta(days=1)
    with db.session() as session:
        reset_sequences(session)
        copy_assessments_to_snapshot(session, as_of=tax_as_of, at=loaded_at)
    return GenerationSummary(
        city_code=city_code,
        residents=builder.residents,
        households=builder.households,
        rows=counts,
        tax_as_of=tax_as_of,
    )
