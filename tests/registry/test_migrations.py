"""The migrations create exactly the tables the store uses, on every backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from yakuba.registry import RegistryDatabase
from yakuba.registry.store import METADATA, VERSION_TABLE


def test_migrated_schema_matches_the_store(db: RegistryDatabase) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        diff = compare_metadata(context, METADATA)
        assert context.get_current_revision() == "0001"
    assert diff == []


def test_migrate_twice_is_harmless(db: RegistryDatabase) -> None:
    db.migrate()
    assert db.count_rows()["persons"] == 0
