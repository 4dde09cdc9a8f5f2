"""The recorder's migrations create the catalogue the store describes, including the scrub's columns."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from yakuba.recorder import Recorder
from yakuba.recorder._recorder import VERSION_TABLE
from yakuba.recorder.store._schema import metadata


def test_migrated_schema_matches_the_store(recorder: Recorder) -> None:
    with recorder.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        diff = compare_metadata(context, metadata)
    # Tables of other modules (provision, the audit log) live in the same database under their own metadata.
    ours = [d for d in diff if _table_of(d) in metadata.tables]
    assert ours == []


def _table_of(diff: object) -> str | None:
    """The table a compare_metadata difference is about (column diffs come as lists of tuples)."""
    item = diff[0] if isinstance(diff, list) else diff
    assert isinstance(item, tuple)
    kind, *rest = item
    if kind in ("remove_table", "add_table"):
        return str(rest[0].name)
    if kind in ("remove_index", "add_index"):
        return str(rest[0].table.name)
    return str(rest[1])  # ("add_column" | "modify_type" | ..., schema, table, ...)
