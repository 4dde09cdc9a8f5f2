"""Several processes of one instance start at once on one database (`yakuba up --workers N`): each migrates
and creates its tables, and none may fail because another got there first (found by `yakuba torture`)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from yakuba.audit import AuditLog
from yakuba.center.store import SqlSettlementStore
from yakuba.clock import SystemClock
from yakuba.database import make_engine
from yakuba.wire.challenge import ChallengeStore

STARTERS = 6
"""Processes (here threads with an engine, so a connection, each) starting at the same moment."""


def _all_at_once(url: str, start: Callable[[str], None]) -> list[BaseException]:
    barrier = threading.Barrier(STARTERS)
    failures: list[BaseException] = []

    def run() -> None:
        barrier.wait()
        try:
            start(url)
        except BaseException as exc:  # collected and asserted on below
            failures.append(exc)

    threads = [threading.Thread(target=run) for _ in range(STARTERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return failures


def _center_start(url: str) -> None:
    engine = make_engine(url)
    try:
        SqlSettlementStore(engine=engine).migrate()
        ChallengeStore(engine=engine, clock=SystemClock()).create_tables()
        AuditLog.open(engine=engine, origin="test.example/center")
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_workers_starting_together_all_migrate(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    url = (
        f"sqlite:///{tmp_path / 'center.sqlite3'}"
        if backend == "sqlite"
        else request.getfixturevalue("postgres_schema_url")
    )
    for _round in range(3):  # the first round creates; the later ones find everything there
        assert _all_at_once(url, _center_start) == []


def test_workers_creating_the_audit_keys_together_all_get_the_same_keys(tmp_path: Path) -> None:
    """Each issuer worker creates its log's keys on first start: one wins, every one reads the winner's keys
    (before: a second worker crashed on the existing file or read a half-written secret or a missing vkey)."""
    from yakuba.audit import create_log_keys, load_subject_secret

    for attempt in range(5):
        key_dir = tmp_path / f"keys-{attempt}"
        got: list[tuple[str, bytes]] = []

        def start(_url: str, key_dir: Path = key_dir, got: list[tuple[str, bytes]] = got) -> None:
            verifier = create_log_keys(key_dir=key_dir, log_name="issuer-x", origin="test.example/issuer-x")
            got.append((verifier.vkey(), load_subject_secret(key_dir=key_dir, log_name="issuer-x")))

        assert _all_at_once("", start) == []
        assert len(got) == STARTERS
        assert len(set(got)) == 1
        assert not [p for p in (key_dir / "audit").iterdir() if p.name.endswith(".tmp")]


def test_issuer_workers_creating_the_city_log_key_together_all_read_the_one_key(tmp_path: Path) -> None:
    """Every issuer of a city (and every worker of one) creates the city's issuance-log key on first start:
    exactly one key is made, and no worker reads it half-written (before: "not a 32-byte key" at start-up)."""
    from yakuba.issuer.person_hash import PersonHasher

    for attempt in range(5):
        key_dir = tmp_path / f"keys-{attempt}"
        (key_dir / "cities" / "132292").mkdir(parents=True)
        hashes: list[str] = []

        def start(_url: str, key_dir: Path = key_dir, hashes: list[str] = hashes) -> None:
            hashes.append(PersonHasher.from_key_dir(key_dir, "132292").person(1))

        assert _all_at_once("", start) == []
        assert len(hashes) == STARTERS
        assert len(set(hashes)) == 1
        assert [p.name for p in (key_dir / "cities" / "132292").iterdir()] == ["issuance-log-hmac.key"]


def test_one_process_migrating_several_databases_at_once_migrates_each(tmp_path: Path) -> None:
    """Two kiosks opening at once in one process (each its own database) ran Alembic in two threads, which
    keeps its state in module globals: one read the other's connection (found by the freshness tests)."""
    from yakuba.kiosk.store import KioskLogStore

    names = iter(range(1000))
    lock = threading.Lock()

    def start(_url: str) -> None:
        with lock:
            n = next(names)
        engine = make_engine(f"sqlite:///{tmp_path / f'kiosk-{n}.sqlite3'}")
        try:
            KioskLogStore.open(engine=engine)
        finally:
            engine.dispose()

    for _round in range(3):
        assert _all_at_once("", start) == []
