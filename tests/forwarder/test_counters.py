"""The forwarder's counters on SQLite and PostgreSQL: one atomic upsert per request."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from yakuba.forwarder import CounterStore

DAY = dt.date(2025, 11, 26)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CounterStore]:
    url = (
        f"sqlite:///{tmp_path / 'counters.sqlite3'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_schema_url")
    )
    counters = CounterStore.from_url(url)
    yield counters
    counters.dispose()


def test_counts_add_up_per_day_kind_and_outcome(store: CounterStore) -> None:
    for _ in range(3):
        store.count(day=DAY, kind="juminhyo", outcome="issued")
    store.count(day=DAY, kind="juminhyo", outcome="not_eligible")
    store.count(day=DAY + dt.timedelta(days=1), kind="juminhyo", outcome="issued")
    assert {(r.kind, r.outcome): r.count for r in store.fetch_counts(day=DAY)} == {
        ("juminhyo", "issued"): 3,
        ("juminhyo", "not_eligible"): 1,
    }
    assert len(store.fetch_counts()) == 3
