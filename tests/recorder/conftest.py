"""Fixtures of the recorder tests: one small synthetic card per session, a fresh recorder per test."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from yakuba.audit import AuditEntry, Integrator, load_log_signer
from yakuba.clock import FixedClock
from yakuba.recorder import LOG_NAME, Recorder
from yakuba.recorder.media import CardSpec, make_card
from yakuba.recorder.service import sample_fleet

CARD_START = dt.datetime(2025, 3, 1, 0, 0, tzinfo=dt.UTC)
ORIGIN = "yakuba/test/audit/recorder"
GOOD_SEGMENTS = 4
PLENTY = 10**15


@pytest.fixture(scope="session")
def card_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("card")
    make_card(path, CardSpec(vehicle_id="T01", start=CARD_START, segments=GOOD_SEGMENTS, segment_seconds=2, seed=3))
    return path


def open_recorder(root: Path, clock: FixedClock, free_space: Callable[[Path], int] = lambda _p: PLENTY) -> Recorder:
    return Recorder.open(
        database_url=f"sqlite:///{root / 'recorder.sqlite3'}",
        footage_root=root / "footage",
        key_dir=root / "keys",
        origin=ORIGIN,
        clock=clock,
        free_space=free_space,
    )


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(CARD_START + dt.timedelta(minutes=30))


@pytest.fixture
def recorder(tmp_path: Path, clock: FixedClock) -> Recorder:
    rec = open_recorder(tmp_path, clock)
    rec.install_fleet(sample_fleet(), staff_id="rec01", counter_staff_id="sup01")
    return rec


def audit_entries(rec: Recorder, key_dir: Path) -> list[AuditEntry]:
    signer = load_log_signer(key_dir=key_dir, log_name=LOG_NAME, origin=ORIGIN)
    Integrator(engine=rec.engine, origin=ORIGIN, signer=signer).integrate_pending()
    return [e.entry for e in rec.log.entries(limit=100_000)]
