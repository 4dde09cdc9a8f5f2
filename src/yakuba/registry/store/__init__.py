"""The registry's persistence: the only part of yakuba.registry that touches SQLAlchemy."""

from yakuba.registry.store._database import MIGRATIONS, VERSION_TABLE, RegistryDatabase, city_of
from yakuba.registry.store._schema import METADATA
from yakuba.registry.store._transaction import SqlRegistryTransaction

__all__ = ["METADATA", "MIGRATIONS", "VERSION_TABLE", "RegistryDatabase", "SqlRegistryTransaction", "city_of"]
