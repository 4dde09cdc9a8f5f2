"""The log in SQL (SQLite and PostgreSQL): transactional appends, integration, proofs, history, tamper detection."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, Table, delete, select, update
from sqlalchemy.orm import sessionmaker

from yakuba.audit import (
    AuditEntry,
    AuditLog,
    CheckpointError,
    CosignatureSigner,
    EntryNotFoundError,
    ForkError,
    Integrator,
    LogIntegrityError,
    LogMismatchError,
    NoteSigner,
    SqlWitnessState,
    Witness,
    leaf_hash,
    request_cosignature,
    subject_key,
    verify_checkpoint,
    verify_consistency_between,
    verify_entry_inclusion,
    verify_log,
)
from yakuba.audit._merkle import CompactRange
from yakuba.audit._store._tables import entries, state, tiles
from yakuba.audit._tiles import TileBuilder
from yakuba.database import unit_of_work
from yakuba.errors import StoreError, ValidationError

ORIGIN = "yakuba/test/audit/issuer-131016-juki"  # as in conftest.py

MakeEntry = Callable[..., AuditEntry]
SECRET = b"s" * 32


def _fill(log: AuditLog, integrator: Integrator, make_entry: MakeEntry, sizes: list[int]) -> list[AuditEntry]:
    """Append entries so that checkpoints land exactly at SIZES."""
    made: list[AuditEntry] = []
    current = log.tree_state().size
    for size in sizes:
        batch = [make_entry(i) for i in range(current, size)]
        with log.engine.begin() as conn:
            log.append_many(conn, batch)
        made.extend(batch)
        current = size
        cp = integrator.integrate_pending()
        assert cp is not None
        assert cp.size == size
    return made


def test_append_commits_with_the_callers_transaction_and_rolls_back_with_it(
    log: AuditLog, integrator: Integrator, make_entry: MakeEntry
) -> None:
    with log.engine.begin() as conn:
        appended = log.append(conn, make_entry(1))
    assert appended.leaf_hash == make_entry(1).leaf_hash()

    def failing_change_with_connection() -> None:
        with log.engine.begin() as conn:
            log.append(conn, make_entry(2))
            raise RuntimeError("the caller's change failed")

    with pytest.raises(RuntimeError):
        failing_change_with_connection()
    # Through the project's unit of work with an ORM Session, too.
    factory = sessionmaker(log.engine)

    def failing_change_with_session() -> None:
        with unit_of_work(factory) as session:
            log.append(session, make_entry(3))
            raise ValueError("issuance failed")

    with pytest.raises(ValueError, match="issuance failed"):
        failing_change_with_session()
    with unit_of_work(factory) as session:
        log.append(session, make_entry(4))
    assert log.pending_count() == 2
    cp = integrator.integrate_pending()
    assert cp is not None
    assert cp.size == 2
    assert [e.entry.fields["seq"] for e in log.entries()] == [1, 4]
    assert integrator.integrate() is None  # nothing pending: no new checkpoint


def test_a_failed_audit_write_fails_the_callers_unit_of_work(log: AuditLog, make_entry: MakeEntry) -> None:
    issuances = Table("test_issuances", MetaData(), Column("id", Integer, primary_key=True))
    issuances.create(log.engine)
    with log.engine.begin() as conn:  # the audit table becomes unwritable
        conn.exec_driver_sql("ALTER TABLE audit_entries RENAME TO audit_entries_away")
    factory = sessionmaker(log.engine)

    def issue() -> None:
        with unit_of_work(factory) as session:
            session.execute(issuances.insert().values(id=1))  # the caller's change
            log.append(session, make_entry(1))

    try:
        with pytest.raises(StoreError):
            issue()
    finally:
        with log.engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE audit_entries_away RENAME TO audit_entries")
    with log.engine.connect() as conn:
        assert conn.execute(select(issuances.c.id)).all() == []  # no issuance without its entry
    assert log.pending_count() == 0


def test_proofs_from_the_database_match_an_independent_tree(
    log: AuditLog, integrator: Integrator, make_entry: MakeEntry, signer: NoteSigner
) -> None:
    sizes = [1, 2, 3, 7, 8, 255, 256, 257, 300, 511, 512, 513, 600]
    made = _fill(log, integrator, make_entry, sizes)
    leaves = [e.leaf_hash() for e in made]
    roots = {}
    compact = CompactRange()
    for i, h in enumerate(leaves):
        compact.append(h)
        roots[i + 1] = compact.root()
    key = signer.verifier()
    for size in sizes:
        note = log.checkpoint(size)
        assert note is not None
        assert verify_checkpoint(note, log_key=key).checkpoint.root_hash == roots[size]
    for size in (257, 600):
        for index in range(0, size, 7):
            proof = log.inclusion_proof(index, tree_size=size)
            assert proof.leaf_hash == leaves[index]
            verify_entry_inclusion(
                note=proof.checkpoint, log_key=key, leaf_hash=leaves[index], index=index, proof=proof.hashes
            )
    for old in sizes:
        for new in sizes:
            if old <= new:
                cons = log.consistency_proof(old, new)
                if old:
                    assert cons.old_checkpoint is not None
                    verify_consistency_between(
                        old_note=cons.old_checkpoint, new_note=cons.new_checkpoint, log_key=key, proof=cons.hashes
                    )
    assert log.tree_state().root_hash == roots[600]
    with pytest.raises(EntryNotFoundError):
        log.inclusion_proof(600)
    report = verify_log(log.engine, log_key=key)
    assert (report.tree_size, report.checkpoints, report.entries) == (600, len(sizes), 600)


def test_entries_for_subject_returns_only_that_subjects_visible_fields(
    log: AuditLog, integrator: Integrator, clock: object
) -> None:
    from yakuba.audit import Actor

    alice = subject_key(SECRET, "resident", "R-0001")
    bob = subject_key(SECRET, "resident", "R-0002")
    import datetime as dt

    t0 = dt.datetime(2025, 4, 1, 9, 0, tzinfo=dt.UTC)
    staff = Actor(role="issuer", instance="issuer-131016-juki", staff_id="staff-042")

    def entry(subject: str | None, event: str, store: str, minute: int) -> AuditEntry:
        return AuditEntry(
            event_type=event,
            actor=staff,
            time=t0 + dt.timedelta(minutes=minute),
            subject=subject,
            fields={"store": store, "kind": "juminhyo", "internal_ref": "tx-9"},
        )

    with log.engine.begin() as conn:
        log.append(conn, entry(alice, "issuance.requested", "store-a", 1))
        log.append(conn, entry(bob, "issuance.requested", "store-b", 2))
        log.append(conn, entry(alice, "issuance.completed", "store-a", 3))
        log.append(conn, entry(None, "registry.catalogue_changed", "none", 4))
    integrator.integrate_pending()
    with log.engine.begin() as conn:
        log.append(conn, entry(alice, "issuance.requested", "store-c", 5))  # still pending
    mine = log.entries_for_subject(alice)
    assert [(e.event_type, e.fields["store"]) for e in mine] == [
        ("issuance.requested", "store-a"),
        ("issuance.completed", "store-a"),
        ("issuance.requested", "store-c"),
    ]
    assert [e.leaf_index for e in mine] == [0, 2, None]
    assert all(set(e.fields) == {"store", "kind"} for e in mine)  # no staff id, no internal reference
    only_completed = log.entries_for_subject(alice, event_types=["issuance.completed"])
    assert [e.time.minute for e in only_completed] == [3]
    assert [e.fields["store"] for e in log.entries_for_subject(bob)] == ["store-b"]
    with pytest.raises(ValidationError):
        log.entries_for_subject("R-0001")  # an id in clear is never a query
    # A tampered index column must not put Bob's entry into Alice's history.
    with log.engine.begin() as conn:
        conn.execute(update(entries).where(entries.c.subject_hash == bob).values(subject_hash=alice))
    with pytest.raises(LogIntegrityError):
        log.entries_for_subject(alice)


def test_the_same_database_cannot_hold_two_logs(engine: Engine, log: AuditLog, signer: NoteSigner) -> None:
    with pytest.raises(LogMismatchError):
        AuditLog.open(engine=engine, origin="yakuba/test/audit/another")
    with pytest.raises(LogMismatchError):
        Integrator(engine=engine, origin=ORIGIN, signer=NoteSigner.generate(name="x"))
    assert AuditLog.attach(engine=engine).origin == ORIGIN


def test_witness_cosigns_the_stored_checkpoints_and_refuses_a_rewritten_history(
    log: AuditLog, integrator: Integrator, make_entry: MakeEntry, signer: NoteSigner
) -> None:
    cosigner = CosignatureSigner.generate(name="center.example/witness")
    witness = Witness(signer=cosigner, logs={ORIGIN: signer.verifier()}, state=SqlWitnessState(engine=log.engine))
    _fill(log, integrator, make_entry, [5])
    request_cosignature(log, witness)
    _fill(log, integrator, make_entry, [9])
    note = request_cosignature(log, witness)
    got = verify_checkpoint(note, log_key=signer.verifier(), witnesses=[cosigner.verifier()], quorum=1)
    assert got.checkpoint.size == 9
    # The operator rewrites entry 2 with all its hashes and re-signs a head of a larger tree.
    with log.engine.begin() as conn:
        conn.execute(update(entries).where(entries.c.leaf_index == 2).values(leaf_hash=leaf_hash(b"forged")))
        conn.execute(delete(tiles))
    rebuilt = TileBuilder()
    with log.engine.begin() as conn:
        rows = conn.execute(select(entries.c.leaf_hash).order_by(entries.c.leaf_index)).all()
        for (h,) in rows:
            for t in rebuilt.append(bytes(h)):
                conn.execute(tiles.insert().values(level=t.level, idx=t.index, width=t.width, hashes=t.blob))
        for t in rebuilt.partial_tiles():
            conn.execute(tiles.insert().values(level=t.level, idx=t.index, width=t.width, hashes=t.blob))
    _fill(log, integrator, make_entry, [12])
    with pytest.raises(ForkError):
        request_cosignature(log, witness)
    assert witness.known_size(ORIGIN) == 9


def test_concurrent_appenders_and_a_running_integrator_build_one_dense_tree(
    log: AuditLog, integrator: Integrator, make_entry: MakeEntry, signer: NoteSigner
) -> None:
    per_thread, threads = 150, 4

    def appender(t: int) -> None:
        for i in range(per_thread):
            with log.engine.begin() as conn:
                log.append(conn, make_entry(t * 1000 + i))

    with integrator.start(interval=0.01):
        workers = [threading.Thread(target=appender, args=(t,)) for t in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    assert log.pending_count() == 0
    report = verify_log(log.engine, log_key=signer.verifier())
    assert report.tree_size == per_thread * threads
    assert report.checkpoints >= 1


# -- tamper detection by `verify` ---------------------------------------------------------------------


@pytest.fixture
def filled(log: AuditLog, integrator: Integrator, make_entry: MakeEntry) -> AuditLog:
    _fill(log, integrator, make_entry, [10, 25, 40])
    return log


def _verify_fails_at(log: AuditLog, signer: NoteSigner, index: int) -> str:
    with pytest.raises(LogIntegrityError) as info:
        verify_log(log.engine, log_key=signer.verifier())
    assert info.value.index == index, info.value.detail
    return str(info.value.detail)


def test_verify_passes_on_an_untouched_log(filled: AuditLog, signer: NoteSigner) -> None:
    report = verify_log(filled.engine, log_key=signer.verifier())
    assert (report.tree_size, report.checkpoints, report.pending) == (40, 3, 0)


def test_verify_detects_a_changed_entry(filled: AuditLog, signer: NoteSigner) -> None:
    stored = filled.entry(17)
    body = stored.entry.canonical_bytes().replace(b'"store-3"', b'"store-9"')
    with filled.engine.begin() as conn:
        conn.execute(update(entries).where(entries.c.leaf_index == 17).values(body=body))
    assert "changed" in _verify_fails_at(filled, signer, 17)


def test_verify_detects_a_changed_entry_with_its_leaf_hash_recomputed(filled: AuditLog, signer: NoteSigner) -> None:
    body = filled.entry(17).entry.canonical_bytes().replace(b'"store-3"', b'"store-9"')
    with filled.engine.begin() as conn:
        conn.execute(update(entries).where(entries.c.leaf_index == 17).values(body=body, leaf_hash=leaf_hash(body)))
    _verify_fails_at(filled, signer, 17)


def test_verify_detects_a_changed_indexed_column(filled: AuditLog, signer: NoteSigner) -> None:
    with filled.engine.begin() as conn:
        conn.execute(update(entries).where(entries.c.leaf_index == 21).values(event_type="issuance.cancelled"))
    _verify_fails_at(filled, signer, 21)


def test_verify_detects_a_deleted_entry(filled: AuditLog, signer: NoteSigner) -> None:
    with filled.engine.begin() as conn:
        conn.execute(delete(entries).where(entries.c.leaf_index == 17))
    assert "missing" in _verify_fails_at(filled, signer, 17)
    with filled.engine.begin() as conn:  # and when the later ones are renumbered to close the gap
        for i in range(18, 40):
            conn.execute(update(entries).where(entries.c.leaf_index == i).values(leaf_index=i - 1))
    _verify_fails_at(filled, signer, 17)


def test_verify_detects_the_last_entry_deleted(filled: AuditLog, signer: NoteSigner) -> None:
    with filled.engine.begin() as conn:
        conn.execute(delete(entries).where(entries.c.leaf_index == 39))
    _verify_fails_at(filled, signer, 39)


def test_verify_detects_two_entries_reordered(filled: AuditLog, signer: NoteSigner) -> None:
    with filled.engine.begin() as conn:
        conn.execute(update(entries).where(entries.c.leaf_index == 12).values(leaf_index=-1))
        conn.execute(update(entries).where(entries.c.leaf_index == 30).values(leaf_index=12))
        conn.execute(update(entries).where(entries.c.leaf_index == -1).values(leaf_index=30))
    assert "reordered" in _verify_fails_at(filled, signer, 12)


def test_verify_detects_a_rewrite_carried_through_hashes_and_tiles_by_the_signed_checkpoint(
    filled: AuditLog, signer: NoteSigner
) -> None:
    body = filled.entry(30).entry.canonical_bytes().replace(b'"store-2"', b'"store-5"')
    with filled.engine.begin() as conn:
        conn.execute(update(entries).where(entries.c.leaf_index == 30).values(body=body, leaf_hash=leaf_hash(body)))
        rows = conn.execute(select(entries.c.leaf_hash).order_by(entries.c.leaf_index)).all()
        conn.execute(delete(tiles))
        builder = TileBuilder()
        compact = CompactRange()
        done = []
        for (h,) in rows:
            done.extend(builder.append(bytes(h)))
            compact.append(bytes(h))
        for t in [*done, *builder.partial_tiles()]:
            conn.execute(tiles.insert().values(level=t.level, idx=t.index, width=t.width, hashes=t.blob))
        conn.execute(update(state).values(root_hash=compact.root()))
    detail = _verify_fails_at(filled, signer, 25)  # entries 0..24 are still vouched for by checkpoint 25
    assert "25..39" in detail


def test_verify_refuses_a_checkpoint_with_a_bad_signature(filled: AuditLog, signer: NoteSigner) -> None:
    from yakuba.audit._store._tables import checkpoints

    note = filled.checkpoint(25)
    assert note is not None
    forged = note.replace(note.split(" ")[-1], "A" * 92 + "==\n")
    with filled.engine.begin() as conn:
        conn.execute(update(checkpoints).where(checkpoints.c.tree_size == 25).values(note=forged))
    with pytest.raises(CheckpointError, match="size 25"):
        verify_log(filled.engine, log_key=signer.verifier())
    with pytest.raises(CheckpointError):  # and every checkpoint, under another key
        verify_log(filled.engine, log_key=NoteSigner.generate(name=ORIGIN).verifier())
