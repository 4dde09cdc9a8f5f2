"""Fixtures for the audit log: a clock, keys, a log on SQLite or a fresh PostgreSQL schema, in-memory tiles."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy import Engine

from yakuba.audit import Actor, AuditEntry, AuditLog, Integrator, NoteSigner
from yakuba.audit._merkle import NodeId
from yakuba.audit._tiles import Tile, TileBuilder, TileKey, locate
from yakuba.clock import FixedClock
from yakuba.database import make_engine

ORIGIN = "yakuba/test/audit/issuer-131016-juki"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(dt.datetime(2025, 4, 1, 9, 0, tzinfo=dt.UTC))


@pytest.fixture
def signer() -> NoteSigner:
    return NoteSigner.generate(name=ORIGIN)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database: a SQLite file, or a fresh schema on PostgreSQL (dropped afterwards)."""
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'audit.db'}")
        yield eng
        eng.dispose()
    else:
        eng = make_engine(request.getfixturevalue("postgres_schema_url"))  # fresh schema, dropped after
        yield eng
        eng.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    eng = make_engine(f"sqlite:///{tmp_path / 'audit.db'}")
    yield eng
    eng.dispose()


@pytest.fixture
def log(engine: Engine, clock: FixedClock) -> AuditLog:
    return AuditLog.open(engine=engine, origin=ORIGIN, now=clock.now())


@pytest.fixture
def integrator(log: AuditLog, signer: NoteSigner, clock: FixedClock) -> Integrator:
    return Integrator(engine=log.engine, origin=ORIGIN, signer=signer, clock=clock)


ISSUER = Actor(role="issuer", instance="issuer-131016-juki")


@pytest.fixture
def make_entry(clock: FixedClock) -> Callable[..., AuditEntry]:
    def make(n: int = 0, *, subject: str | None = None, event_type: str = "issuance.requested") -> AuditEntry:
        return AuditEntry(
            event_type=event_type,
            actor=ISSUER,
            time=clock.now() + dt.timedelta(seconds=n),
            subject=subject,
            fields={"store": f"store-{n % 7}", "kind": "juminhyo", "seq": n},
        )

    return make


class MemoryTiles:
    """NodeReader over tiles built in memory by the production TileBuilder (no database)."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self.tiles: dict[TileKey, Tile] = {}
        builder = TileBuilder()
        for h in leaves:
            for t in builder.append(h):
                self.tiles[t.key] = t
        for t in builder.partial_tiles():
            self.tiles[t.key] = t
        self.reads = 0

    def read_nodes(self, nodes: Sequence[NodeId]) -> list[bytes]:
        self.reads += 1
        out = []
        for node in nodes:
            key, row, pos = locate(node)
            out.append(self.tiles[key].node(row, pos))
        return out


@pytest.fixture
def memory_tiles() -> type[MemoryTiles]:
    return MemoryTiles
