"""The JPKI's daily counts on SQLite and PostgreSQL: one row per day and endpoint, added to atomically."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from yakuba.database import make_engine
from yakuba.jpki.service import QueryTally
from yakuba.jpki.store import SqlQueryLog


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlQueryLog]:
    url = (
        f"sqlite:///{tmp_path}/jpki.sqlite3"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_schema_url")
    )
    engine = make_engine(url)
    log = SqlQueryLog(engine=engine)
    log.migrate()
    yield log
    engine.dispose()


def test_counts_add_up_per_day_and_endpoint(log: SqlQueryLog) -> None:
    day, next_day = dt.date(2025, 6, 10), dt.date(2025, 6, 11)
    tallies = [QueryTally(day=day, endpoint="status", serials=3, revoked=1)] * 20
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(log.record, tallies))
    log.record(QueryTally(day=day, endpoint="crl"))
    log.record(QueryTally(day=next_day, endpoint="status", serials=1))
    assert log.counts() == [
        ("2025-06-10", "crl", 1, 0, 0),
        ("2025-06-10", "status", 20, 60, 20),
        ("2025-06-11", "status", 1, 1, 0),
    ]
