"""Building a city's registry and its life-event service from the deployment."""

from __future__ import annotations

from dataclasses import dataclass

from yakuba.clock import Clock
from yakuba.config import Deployment
from yakuba.registry._ports import CardRevoker
from yakuba.registry.service import CityIdentity, LifeEvents
from yakuba.registry.store import RegistryDatabase, city_of

__all__ = ["CityRegistry", "open_city_registry"]


@dataclass(frozen=True, slots=True, kw_only=True)
class CityRegistry:
    """One city's registry database and the life events recorded on it."""

    city: CityIdentity
    db: RegistryDatabase
    events: LifeEvents


def open_city_registry(
    dep: Deployment, city_code: str, *, clock: Clock, revoker: CardRevoker | None = None, migrate: bool = True
) -> CityRegistry:
    """Open CITY_CODE's registry (migrated to the newest schema); card revocations go to REVOKER, else the PKI."""
    from yakuba.registry._pki import PkiCardRevoker

    config = city_of(dep, city_code)
    city = CityIdentity(code=config.code, prefecture=config.prefecture, name=config.name)
    db = RegistryDatabase.for_city(dep, city_code)
    if migrate:
        db.migrate()
    events = LifeEvents(
        transactions=db.transaction,
        revoker=revoker or PkiCardRevoker(dep=dep, clock=clock),
        clock=clock,
        city=city,
    )
    return CityRegistry(city=city, db=db, events=events)
