"""The issuance log on SQLite and PostgreSQL: unique transaction ids, own serials, one close per transaction."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from yakuba.issuer import EntryStatus, IssuanceLogStore
from yakuba.issuer.log_entry import EntryClosing, NewEntry

AT = dt.datetime(2025, 11, 26, 1, 0, tzinfo=dt.UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[IssuanceLogStore]:
    url = (
        f"sqlite:///{tmp_path / 'log.sqlite3'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_schema_url")
    )
    log = IssuanceLogStore.from_url(url)
    yield log
    log.dispose()


def _new(transaction_id: str) -> NewEntry:
    return NewEntry(
        transaction_id=transaction_id,
        request_digest=b"\x01" * 32,
        card_hash="c" * 64,
        kiosk_id="midori-tanashi-1",
        chain_id="midori",
        kind="juminhyo",
        basis="residence",
        copies=1,
        fee_yen=200,
        person_hash="p" * 64,
        created_at=AT,
    )


def test_a_transaction_id_is_reserved_once_with_its_own_serial(store: IssuanceLogStore) -> None:
    first = store.reserve(_new("tx-" + "a" * 32), serial_prefix="J229")
    second = store.reserve(_new("tx-" + "b" * 32), serial_prefix="J229")
    assert first is not None
    assert second is not None
    assert first.serial != second.serial
    assert first.serial is not None
    assert first.serial.startswith("J229-")
    assert store.reserve(_new("tx-" + "a" * 32), serial_prefix="J229") is None
    store.record_refusal(_new("tx-" + "a" * 32), reason="under_age")  # an id taken stays as it was
    assert store.count_entries(transaction_id="tx-" + "a" * 32) == 1


def test_issue_close_and_fail(store: IssuanceLogStore) -> None:
    entry = store.reserve(_new("tx-" + "c" * 32), serial_prefix="K229")
    assert entry is not None
    store.mark_issued(entry.id, pages=2, issued_at=AT, content_digest="d" * 64, envelope=b"sealed")
    issued = store.fetch_entry("tx-" + "c" * 32)
    assert issued is not None
    assert (issued.status, issued.pages, issued.envelope, issued.issued_at) == (EntryStatus.ISSUED, 2, b"sealed", AT)
    assert store.fetch_by_serial(issued.serial or "") == issued
    # A completion judges the entry without reading the kept envelope; everything else is the same.
    judged = store.fetch_entry("tx-" + "c" * 32, with_envelope=False)
    assert judged is not None
    assert judged.envelope is None
    assert dataclasses.replace(judged, envelope=b"sealed") == issued
    close = EntryClosing(
        transaction_id="tx-" + "c" * 32, status=EntryStatus.PRINTED, copies_printed=1, copies_voided=0, at=AT
    )
    assert store.close_many([close]) == [True]
    assert store.close_many([close]) == [False]
    closed = store.fetch_entry("tx-" + "c" * 32)
    assert closed is not None
    assert closed.envelope is None
    failing = store.reserve(_new("tx-" + "e" * 32), serial_prefix="K229")
    assert failing is not None
    store.mark_failed(failing.id, reason="render_failed")
    failed = store.fetch_entry("tx-" + "e" * 32)
    assert failed is not None
    assert (failed.status, failed.reason) == (EntryStatus.FAILED, "render_failed")


def test_only_issuing_entries_reserved_before_the_cutoff_are_failed_as_interrupted(store: IssuanceLogStore) -> None:
    def reserved(tx: str, at: dt.datetime) -> int:
        entry = store.reserve(dataclasses.replace(_new(tx), created_at=at), serial_prefix="K229")
        assert entry is not None
        return entry.id

    old, recent, done = "tx-" + "1" * 32, "tx-" + "2" * 32, "tx-" + "3" * 32
    reserved(old, AT)
    reserved(recent, AT + dt.timedelta(minutes=20))
    issued = reserved(done, AT)
    store.mark_issued(issued, pages=1, issued_at=AT, content_digest="d" * 64, envelope=b"sealed")
    cutoff = AT + dt.timedelta(minutes=10)
    assert store.fail_interrupted(reserved_before=cutoff, reason="interrupted") == 1
    assert store.fail_interrupted(reserved_before=cutoff, reason="interrupted") == 0  # idempotent
    status = {tx: store.fetch_entry(tx) for tx in (old, recent, done)}
    assert {tx: (e.status, e.reason) for tx, e in status.items() if e is not None} == {
        old: (EntryStatus.FAILED, "interrupted"),
        recent: (EntryStatus.ISSUING, None),
        done: (EntryStatus.ISSUED, None),
    }


class _FailingAudit:
    """An audit entry whose append fails as a full or broken database would."""

    def write(self, tx: object) -> None:
        from sqlalchemy.exc import OperationalError

        raise OperationalError("INSERT INTO audit_log", {}, Exception("disk I/O error"))


def _issued(store: IssuanceLogStore, transaction_id: str) -> None:
    entry = store.reserve(_new(transaction_id), serial_prefix="J229")
    assert entry is not None
    store.mark_issued(entry.id, pages=1, issued_at=AT, content_digest="d" * 64, envelope=b"sealed")


def _closing(transaction_id: str, **changes: object) -> EntryClosing:
    closing = EntryClosing(
        transaction_id=transaction_id, status=EntryStatus.PRINTED, copies_printed=1, copies_voided=0, at=AT
    )
    return dataclasses.replace(closing, **changes)  # type: ignore[arg-type]


def test_a_batch_of_closings_is_one_transaction_judging_each_entry(store: IssuanceLogStore) -> None:
    ids = ["tx-" + c * 32 for c in "fgh"]
    for transaction_id in ids[:2]:
        _issued(store, transaction_id)
    assert store.close_many([_closing(ids[0])]) == [True]
    found = store.fetch_entries([*ids, ids[1]], with_envelope=False)
    assert sorted(found) == ids[:2]  # the unknown id is simply absent; a repeated one read once
    assert all(entry.envelope is None for entry in found.values())
    # Already closed, open, unknown: each judged alone in the same transaction.
    assert store.close_many([_closing(ids[0]), _closing(ids[1]), _closing(ids[2])]) == [False, True, False]
    closed = store.fetch_entries(ids)
    assert [closed[t].status for t in ids[:2]] == [EntryStatus.PRINTED, EntryStatus.PRINTED]
    assert closed[ids[1]].envelope is None


def test_a_failing_audit_entry_rolls_back_the_whole_batch(store: IssuanceLogStore) -> None:
    from yakuba.errors import StoreError

    ids = ["tx-" + c * 32 for c in "jk"]
    for transaction_id in ids:
        _issued(store, transaction_id)
    with pytest.raises(StoreError):
        store.close_many([_closing(ids[0]), _closing(ids[1], audit=_FailingAudit())])
    # Neither is half written: both still issued, with their envelopes, and can be closed when sent again.
    still = store.fetch_entries(ids)
    assert [still[t].status for t in ids] == [EntryStatus.ISSUED, EntryStatus.ISSUED]
    assert [still[t].envelope for t in ids] == [b"sealed", b"sealed"]
    assert store.close_many([_closing(t) for t in ids]) == [True, True]


def test_the_sweep_for_interrupted_entries_reads_only_the_issuing_ones(tmp_path: Path) -> None:
    """The real statement fail_interrupted sends, planned by SQLite: the partial index of the entries issuing
    now, not a walk of every entry older than the cutoff (the whole log of the city's years)."""
    from sqlalchemy import event

    store = IssuanceLogStore.from_url(f"sqlite:///{tmp_path / 'log.sqlite3'}")
    sent: list[tuple[str, object]] = []

    def capture(_conn: object, _cursor: object, statement: str, parameters: object, *_: object) -> None:
        if statement.lstrip().upper().startswith("UPDATE"):
            sent.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", capture)
    try:
        store.fail_interrupted(reserved_before=AT, reason="interrupted")
        assert len(sent) == 1
        statement, parameters = sent[0]
        with store.engine.connect() as conn:
            plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()  # type: ignore[arg-type]
    finally:
        event.remove(store.engine, "before_cursor_execute", capture)
        store.dispose()
    details = " ".join(str(row[-1]) for row in plan)
    assert "issuance_log_issuing" in details, details
