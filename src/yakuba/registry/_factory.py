"""Building a city's registry and its life-event service from the deployment."""

from __future__ import annotations

from dataclasses import dataclass

from yakuba.clock import Clock
from yakuba.config import Deployment
from yakuba.registry._ports import CardRevoker
from yakuba.registry.service import CityIdentity, LifeEvents
from yakuba.registry.store import RegistryDatabase, city_of
from yakuba.registry.store._audit_trail import RegistryAuditTrail

__all__ = ["CityRegistry", "open_city_registry", "registry_audit_trail", "registry_log_name"]


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
    db = db.with_audit(registry_audit_trail(dep, city_code, create=migrate))
    events = LifeEvents(
        transactions=db.transaction,
        revoker=revoker or PkiCardRevoker(dep=dep, clock=clock),
        clock=clock,
        city=city,
    )
    return CityRegistry(city=city, db=db, events=events)


def registry_log_name(city_code: str) -> str:
    """The audit log of a city's registry; it lives in the registry's own database."""
    return f"registry-{city_code}"


def registry_audit_trail(dep: Deployment, city_code: str, *, create: bool) -> RegistryAuditTrail:
    """The city registry's audit trail: its log (created with its keys when CREATE), subject key and actor."""
    from yakuba.audit import Actor, load_subject_secret, open_deployment_log

    name = registry_log_name(city_code)
    opened = open_deployment_log(dep, name, create=create)
    return RegistryAuditTrail(
        log=opened.log,
        subject_secret=load_subject_secret(key_dir=dep.key_dir, log_name=name),
        actor=Actor(role="registry", instance=name),
    )
