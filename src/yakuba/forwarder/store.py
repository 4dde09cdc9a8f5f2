"""The forwarder's only persistence: counters per day, kind and outcome (no serials, no transaction content)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from yakuba.database import make_engine, migrate
from yakuba.errors import StoreError

__all__ = ["MAX_KIND", "MAX_LABEL", "MIGRATIONS", "VERSION_TABLE", "CounterRow", "CounterStore", "counters"]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "forwarder_alembic_version"
"""The forwarder's own Alembic version table, so it can share a database with other components."""

MAX_LABEL = 40
"""Outcome labels are error codes and outcome names; a longer one is a bug, cut rather than refused."""

MAX_KIND = 32
"""Kinds are DocumentKind values (at most 14 characters); the wire allows 32."""

_metadata = MetaData()

counters = Table(
    "forwarder_counters",
    _metadata,
    Column("day", String(10), nullable=False),  # JST calendar day, ISO
    Column("kind", String(MAX_KIND), nullable=False),
    Column("outcome", String(MAX_LABEL), nullable=False),  # "issued", an error code, or a completion outcome
    Column("count", BigInteger, nullable=False),
    PrimaryKeyConstraint("day", "kind", "outcome", name="forwarder_counters_pkey"),
)
"""Matches migration 0001. Three labels and a number: nothing here can be traced to a person or a card."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CounterRow:
    day: dt.date
    kind: str
    outcome: str
    count: int


class CounterStore:
    """Counters on SQLite or PostgreSQL; implements `yakuba.forwarder.service.Counters`.

    One upsert per request (INSERT ... ON CONFLICT DO UPDATE count = count + 1), one transaction of them per
    batch of completions: atomic on both databases, so any number of forwarder processes can share the table.
    """

    def __init__(self, *, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def from_url(cls, url: str) -> CounterStore:
        """Open the counters at URL and bring the table to the newest migration."""
        store = cls(engine=make_engine(url))
        migrate(store.engine, script_location=MIGRATIONS, version_table=VERSION_TABLE)
        return store

    def dispose(self) -> None:
        self.engine.dispose()

    def count(self, *, day: dt.date, kind: str, outcome: str) -> None:
        self.count_many(day=day, counts={(kind, outcome): 1})

    def count_many(self, *, day: dt.date, counts: Mapping[tuple[str, str], int]) -> None:
        """Add each number to its (kind, outcome) counter of DAY: one upsert per counter, all in one transaction
        (a batch of completions costs one commit, not one per report)."""
        dialect: Any = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        try:
            with self.engine.begin() as conn:
                # Sorted: two processes adding to the same counters lock their rows in the same order.
                for (kind, outcome), number in sorted(counts.items()):
                    values = {"day": day.isoformat(), "kind": kind[:MAX_KIND], "outcome": outcome[:MAX_LABEL]}
                    statement = dialect.insert(counters).values(**values, count=number)
                    statement = statement.on_conflict_do_update(
                        index_elements=[counters.c.day, counters.c.kind, counters.c.outcome],
                        set_={"count": counters.c.count + number},
                    )
                    conn.execute(statement)
        except SQLAlchemyError as exc:
            raise StoreError(f"counter update failed ({type(exc).__name__})") from exc

    def fetch_counts(self, *, day: dt.date | None = None) -> tuple[CounterRow, ...]:
        query = select(counters).order_by(counters.c.day, counters.c.kind, counters.c.outcome)
        if day is not None:
            query = query.where(counters.c.day == day.isoformat())
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(query).mappings().all()
        except SQLAlchemyError as exc:
            raise StoreError(f"counter read failed ({type(exc).__name__})") from exc
        return tuple(
            CounterRow(day=dt.date.fromisoformat(r["day"]), kind=r["kind"], outcome=r["outcome"], count=r["count"])
            for r in rows
        )
