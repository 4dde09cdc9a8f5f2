"""The settlement store on SQLite and PostgreSQL: conditional transitions, the monthly rows, suspensions."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from yakuba.center import LineStatus, SettlementLine
from yakuba.center.errors import TransactionConflictError
from yakuba.center.ports import CitySuspension, LineClosing
from yakuba.center.store import SqlSettlementStore
from yakuba.database import make_engine

T0 = dt.datetime(2025, 6, 10, 1, 0, tzinfo=dt.UTC)


def line(n: int, *, day: dt.date = dt.date(2025, 6, 10), kind: str = "juminhyo", copies: int = 2) -> SettlementLine:
    return SettlementLine(
        transaction_id=f"tx-{n:032x}",
        request_digest=hashlib.sha256(b"request %d" % n).digest(),
        challenge_hash=hashlib.sha256(b"challenge %d" % n).digest(),
        day=day,
        city="132292",
        chain_id="midori",
        kiosk_id="midori-tanashi-1",
        kind=kind,
        basis="residence",
        copies=copies,
        fee_yen=200,
        created_at=T0,
    )


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlSettlementStore]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/center.sqlite3"
    else:
        url = request.getfixturevalue("postgres_schema_url")
    engine = make_engine(url)
    store = SqlSettlementStore(engine=engine)
    store.migrate()
    store.migrate()  # idempotent
    yield store
    engine.dispose()


def test_a_line_round_trips_and_opens_once(store: SqlSettlementStore) -> None:
    store.open_line(line(1))
    found = store.find_line(line(1).transaction_id)
    assert found == line(1)
    assert found is not None
    assert found.created_at.tzinfo is not None
    with pytest.raises(TransactionConflictError):
        store.open_line(line(1))
    assert store.find_line(line(2).transaction_id) is None


def test_transitions_happen_once(store: SqlSettlementStore) -> None:
    store.open_line(line(1))
    store.open_line(line(2))
    store.mark_answered(line(1).transaction_id, at=T0)

    def closing(n: int) -> list[LineClosing]:
        return [
            LineClosing(
                transaction_id=line(n).transaction_id,
                outcome="printed",
                copies_printed=2,
                copies_voided=0,
                amount_yen=400,
            )
        ]

    assert store.close_lines(closing(1), at=T0) == {line(1).transaction_id}
    assert store.close_lines(closing(1), at=T0) == set()
    assert not store.fail_line(line(1).transaction_id, reason="upstream_error", at=T0)
    assert store.fail_line(line(2).transaction_id, reason="upstream_timeout", at=T0)
    assert store.close_lines(closing(2), at=T0) == set()
    first, second = store.find_line(line(1).transaction_id), store.find_line(line(2).transaction_id)
    assert first is not None
    assert second is not None
    assert (first.status, first.amount_yen, first.answered_at) == (LineStatus.CLOSED, 400, T0)
    assert (second.status, second.amount_yen, second.failure) == (LineStatus.FAILED, 0, "upstream_timeout")


def test_rows_group_by_day_city_chain_kind(store: SqlSettlementStore) -> None:
    june10, june30, july1 = dt.date(2025, 6, 10), dt.date(2025, 6, 30), dt.date(2025, 7, 1)
    for n, day, kind in [(1, june10, "juminhyo"), (2, june10, "juminhyo"), (3, june30, "inkan"), (4, july1, "inkan")]:
        store.open_line(line(n, day=day, kind=kind))
    closing = LineClosing(
        transaction_id=line(1).transaction_id, outcome="printed", copies_printed=2, copies_voided=0, amount_yen=400
    )
    store.close_lines([closing], at=T0)
    store.fail_line(line(2).transaction_id, reason="not_eligible", at=T0)
    rows = store.settlement_rows(first_day=dt.date(2025, 6, 1), last_day=june30)
    assert [(r.day, r.kind, r.transactions, r.closed, r.failed, r.pending, r.amount_yen) for r in rows] == [
        (june10, "juminhyo", 2, 1, 1, 0, 400),
        (june30, "inkan", 1, 0, 0, 1, 0),
    ]


def test_a_suspension_keeps_its_first_reason_until_resumed(store: SqlSettlementStore) -> None:
    first = CitySuspension(
        city="132292", reason="answer_mismatch", transaction_id=line(1).transaction_id, suspended_at=T0
    )
    store.suspend_city(first)
    store.suspend_city(
        CitySuspension(city="132292", reason="other", transaction_id=line(2).transaction_id, suspended_at=T0)
    )
    assert store.find_suspension("132292") == first
    assert store.find_suspension("132110") is None
    assert store.resume_city("132292")
    assert not store.resume_city("132292")
    assert store.find_suspension("132292") is None
