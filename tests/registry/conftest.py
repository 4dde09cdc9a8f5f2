"""Fixtures of the registry tests: a migrated registry on SQLite and on PostgreSQL, a recording card revoker."""

from __future__ import annotations

import random
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from yakuba.clock import FixedClock
from yakuba.database import make_engine
from yakuba.registry import LifeEvents, RegistryDatabase

from .registry_testdata import CITY, NOW, RecordingRevoker

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
PG_START_WAIT_S = 30
"""How long to wait for a PostgreSQL server started by the fixture."""


def _pg_ready() -> bool:
    return subprocess.run(["pg_isready", "-h", "127.0.0.1", "-p", "5432"], capture_output=True).returncode == 0


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The PostgreSQL URL; starts the local cluster when it is down (never skips silently)."""
    if not _pg_ready():
        versions = sorted(p.name for p in Path("/etc/postgresql").iterdir())
        assert versions, "PostgreSQL is not installed"
        assert shutil.which("pg_ctlcluster"), "pg_ctlcluster is missing"
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"], check=True)
        deadline = time.monotonic() + PG_START_WAIT_S
        while not _pg_ready():
            assert time.monotonic() < deadline, "PostgreSQL did not start"
            time.sleep(0.5)
    return PG_URL


def _pg_database(url: str) -> Iterator[RegistryDatabase]:
    schema = f"reg_{uuid.uuid4().hex[:12]}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    db = RegistryDatabase(engine=engine)
    try:
        db.migrate()
        yield db
    finally:
        db.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RegistryDatabase]:
    """A freshly migrated, empty registry on each backend."""
    if request.param == "sqlite":
        database = RegistryDatabase.from_url(f"sqlite:///{tmp_path / 'registry.sqlite3'}")
        database.migrate()
        yield database
        database.dispose()
    else:
        yield from _pg_database(request.getfixturevalue("postgres_server"))


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def revoker() -> RecordingRevoker:
    return RecordingRevoker()


@pytest.fixture
def events(db: RegistryDatabase, clock: FixedClock, revoker: RecordingRevoker) -> LifeEvents:
    return LifeEvents(transactions=db.transaction, revoker=revoker, clock=clock, city=CITY, rng=random.Random(7))
