"""One-time challenges: single use, 120 s, bound to one kiosk, shared through SQLite or PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from yakuba.clock import FixedClock
from yakuba.database import make_engine
from yakuba.errors import ValidationError, VerificationError
from yakuba.wire import CHALLENGE_BYTES, CHALLENGE_TTL, ChallengeStore
from yakuba.wire.challenge import challenges_table

KIOSK = "midori-tanashi-1"
START = dt.datetime(2026, 4, 1, 8, 30, tzinfo=dt.UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'center.sqlite3'}"
    url: str = request.getfixturevalue("postgres_schema_url")
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def store(engine: Engine, clock: FixedClock) -> ChallengeStore:
    return ChallengeStore.open(engine=engine, clock=clock)


def test_ttl_is_two_minutes() -> None:
    assert dt.timedelta(seconds=120) == CHALLENGE_TTL


def test_issue_and_consume_once(store: ChallengeStore, engine: Engine) -> None:
    challenge = store.issue(KIOSK)
    assert len(challenge.value) == CHALLENGE_BYTES
    assert challenge.expires_at - challenge.issued_at == CHALLENGE_TTL
    assert challenge.value.hex() not in repr(challenge)
    store.consume(challenge.value, KIOSK)
    with engine.connect() as conn:
        row = conn.execute(select(challenges_table)).one()
    assert row.value_hash != challenge.value  # only the hash is stored
    assert row.used_at == START
    assert row.issued_to == KIOSK


def test_used_twice_is_refused(store: ChallengeStore) -> None:
    challenge = store.issue(KIOSK)
    store.consume(challenge.value, KIOSK)
    with pytest.raises(VerificationError) as caught:
        store.consume(challenge.value, KIOSK)
    assert caught.value.text_ja


def test_accepted_at_119_seconds(store: ChallengeStore, clock: FixedClock) -> None:
    challenge = store.issue(KIOSK)
    clock.advance(dt.timedelta(seconds=119))
    store.consume(challenge.value, KIOSK)


@pytest.mark.parametrize("seconds", [120, 121])
def test_refused_from_120_seconds(store: ChallengeStore, clock: FixedClock, seconds: int) -> None:
    challenge = store.issue(KIOSK)
    clock.advance(dt.timedelta(seconds=seconds))
    with pytest.raises(VerificationError):
        store.consume(challenge.value, KIOSK)


def test_wrong_instance_is_refused_and_does_not_burn_it(store: ChallengeStore) -> None:
    challenge = store.issue(KIOSK)
    with pytest.raises(VerificationError):
        store.consume(challenge.value, "midori-hibarigaoka-1")
    store.consume(challenge.value, KIOSK)


def test_unknown_and_malformed_values_are_refused(store: ChallengeStore) -> None:
    store.issue(KIOSK)
    with pytest.raises(VerificationError):
        store.consume(bytes(CHALLENGE_BYTES), KIOSK)
    with pytest.raises(VerificationError):
        store.consume(b"short", KIOSK)
    with pytest.raises(ValidationError):
        store.issue("Not A Kiosk!")


def test_values_are_unique(store: ChallengeStore) -> None:
    values = {store.issue(KIOSK).value for _ in range(50)}
    assert len(values) == 50


def test_purge_expired(store: ChallengeStore, clock: FixedClock, engine: Engine) -> None:
    old_used = store.issue(KIOSK)
    store.consume(old_used.value, KIOSK)
    store.issue(KIOSK)
    clock.advance(dt.timedelta(seconds=100))
    fresh = store.issue(KIOSK)
    clock.advance(dt.timedelta(seconds=30))
    assert store.purge_expired() == 2
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(challenges_table)).scalar_one() == 1
    store.consume(fresh.value, KIOSK)


def test_shared_between_stores(database_url: str, clock: FixedClock, store: ChallengeStore) -> None:
    """Another process (its own engine) sees the challenge and its use."""
    other_engine = make_engine(database_url)
    try:
        other = ChallengeStore.open(engine=other_engine, clock=clock)
        challenge = store.issue(KIOSK)
        other.consume(challenge.value, KIOSK)
        with pytest.raises(VerificationError):
            store.consume(challenge.value, KIOSK)
    finally:
        other_engine.dispose()


def test_concurrent_consumers_exactly_one_wins(database_url: str, clock: FixedClock, store: ChallengeStore) -> None:
    racers = 4
    engines = [make_engine(database_url) for _ in range(racers)]
    try:
        stores = [ChallengeStore(engine=e, clock=clock) for e in engines]
        for _round in range(10):
            challenge = store.issue(KIOSK)
            barrier = threading.Barrier(racers)
            outcomes: list[str] = []
            lock = threading.Lock()

            def race(
                racer: ChallengeStore,
                value: bytes = challenge.value,
                gate: threading.Barrier = barrier,
                results: list[str] = outcomes,
                guard: threading.Lock = lock,
            ) -> None:
                gate.wait()
                try:
                    racer.consume(value, KIOSK)
                    result = "won"
                except VerificationError:
                    result = "refused"
                with guard:
                    results.append(result)

            threads = [threading.Thread(target=race, args=(s,)) for s in stores]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=30)
            assert sorted(outcomes) == ["refused"] * (racers - 1) + ["won"]
    finally:
        for e in engines:
            e.dispose()
