"""Bulk loading of a generated population: Core executemany per table, one transaction per batch."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from yakuba.registry.store._schema import METADATA, persons

__all__ = ["LOAD_ORDER", "insert_batch", "is_registry_empty", "reset_sequences"]

LOAD_ORDER = (
    "households",
    "koseki_registers",
    "persons",
    "seal_registrations",
    "tax_assessments",
    "koseki_members",
    "koseki_events",
    "koseki_filings",
    "koseki_fuhyo",
    "history",
)
"""Tables in an order that satisfies every foreign key within a batch."""


def is_registry_empty(session: Session) -> bool:
    """Whether no person is on the registry yet (the generator never mixes with real or earlier data)."""
    return session.execute(select(func.count()).select_from(persons)).scalar_one() == 0


def insert_batch(session: Session, rows: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
    """Insert ROWS (table name -> rows with every column) in LOAD_ORDER."""
    unknown = set(rows) - set(LOAD_ORDER)
    if unknown:
        raise ValueError(f"no bulk loading for {sorted(unknown)}")
    for name in LOAD_ORDER:
        batch = rows.get(name)
        if batch:
            session.execute(insert(METADATA.tables[name]), list(batch))


def reset_sequences(session: Session) -> None:
    """After loading explicit ids, move PostgreSQL's id sequences past them (SQLite needs nothing)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for name in LOAD_ORDER:
        table = METADATA.tables[name]
        if "id" not in table.c:
            continue
        session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "  # noqa: S608 - names from our own metadata
                f"COALESCE((SELECT MAX(id) FROM {name}), 0) + 1, false)"
            )
        )
