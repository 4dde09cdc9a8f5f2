"""One city's registry database: open it from the deployment, migrate it, run units of work on it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from yakuba.config import CityConfig, Deployment
from yakuba.database import make_engine, migrate, unit_of_work
from yakuba.registry.errors import UnknownCityError
from yakuba.registry.store._audit_trail import RegistryAuditTrail
from yakuba.registry.store._schema import METADATA
from yakuba.registry.store._transaction import SqlRegistryTransaction

__all__ = ["MIGRATIONS", "VERSION_TABLE", "RegistryDatabase", "city_of"]

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
VERSION_TABLE = "registry_alembic_version"
"""The registry's own Alembic version table, so it can share a database with other components."""


def city_of(dep: Deployment, city_code: str) -> CityConfig:
    """The deployment's city with CITY_CODE, or UnknownCityError naming the known ones."""
    try:
        return dep.city(city_code)
    except KeyError:
        known = ", ".join(c.code for c in dep.cities)
        raise UnknownCityError(
            f"unknown city code {city_code!r} (this deployment has: {known})",
            ja=f"市区町村コード {city_code!r} はこのデプロイメントにありません（{known}）",
        ) from None


class RegistryDatabase:
    """A city's registry of record; every change goes through `transaction()`."""

    def __init__(self, *, engine: Engine, audit: RegistryAuditTrail | None = None) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._audit = audit

    def with_audit(self, audit: RegistryAuditTrail) -> RegistryDatabase:
        """The same database, with every history row also appended to AUDIT in the same transaction."""
        return RegistryDatabase(engine=self.engine, audit=audit)

    @classmethod
    def from_url(cls, url: str) -> RegistryDatabase:
        """Open the registry at URL (sqlite:///... or postgresql://...)."""
        return cls(engine=make_engine(url))

    @classmethod
    def for_city(cls, dep: Deployment, city_code: str) -> RegistryDatabase:
        """Open the registry database the deployment names for CITY_CODE."""
        city = city_of(dep, city_code)
        return cls.from_url(dep.database_url(city.registry_database))

    def migrate(self) -> None:
        """Bring the tables to the newest schema."""
        migrate(self.engine, script_location=MIGRATIONS, version_table=VERSION_TABLE)

    @contextmanager
    def transaction(self) -> Iterator[SqlRegistryTransaction]:
        """One unit of work: commit on success, roll back everything on any error."""
        with unit_of_work(self._sessions) as session:
            yield SqlRegistryTransaction(session=session, audit=self._audit)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A raw unit-of-work session, for the bulk loader and the batch jobs in this package."""
        with unit_of_work(self._sessions) as session:
            yield session

    def count_rows(self) -> dict[str, int]:
        """Rows per registry table: how tests prove that a refused event wrote nothing."""
        with self.engine.connect() as conn:
            return {
                name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
                for name, table in sorted(METADATA.tables.items())
            }

    def dispose(self) -> None:
        """Close the engine's connections."""
        self.engine.dispose()
