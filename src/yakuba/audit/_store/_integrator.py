"""The integrator: sequences appended entries into the tree, updates the tiles and signs a checkpoint."""

from __future__ import annotations

import logging
import threading
import time
from types import TracebackType

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from yakuba.audit._checkpoint import Checkpoint
from yakuba.audit._entry import _format_time
from yakuba.audit._merkle import tree_root
from yakuba.audit._note import NoteSigner
from yakuba.audit._store._tables import checkpoints, entries, state, tiles
from yakuba.audit._store._tree import SEQUENCE_STATEMENT, TileReader, leaf_index_updates
from yakuba.audit._tiles import Tile, TileBuilder, TileKey
from yakuba.audit.errors import LogMismatchError
from yakuba.clock import Clock, SystemClock
from yakuba.errors import StoreError

__all__ = ["CHECKPOINT_INTERVAL_S", "MAX_BATCH", "Integrator", "IntegratorThread"]

log = logging.getLogger(__name__)

CHECKPOINT_INTERVAL_S = 1.0
"""The issue's promise: a new signed checkpoint at least every second while entries arrive."""

MAX_BATCH = 20_000
"""Entries per integration transaction: bounds how long the write lock is held (tens of ms on SQLite)."""


class Integrator:
    """Turns pending entries into tree leaves and signed checkpoints for one log.

    Design (Trillian's sequencer/integrator split, on one SQL database):

    - Appenders, in any number of processes, only INSERT rows: the database assigns `id` (arrival
      order) and the row carries its leaf hash. Nothing else is shared, so appends scale with the
      database and stay inside the caller's transaction.
    - One integrator per log (a thread in the service that owns the log, or `yakuba audit integrate`)
      takes the pending rows in `id` order every second, assigns dense `leaf_index` values from the
      current tree size, extends the right-edge tiles, and signs and stores the new checkpoint - all
      in one transaction with the new tree state. Several integrators are safe (they serialize on the
      state row's lock and compare-and-set the size) but pointless.
    - PostgreSQL sequences leave gaps and commit out of order; that is why `id` is never the tree index.
    """

    def __init__(
        self,
        *,
        engine: Engine,
        origin: str,
        signer: NoteSigner,
        clock: Clock | None = None,
        batch_size: int = MAX_BATCH,
    ) -> None:
        if signer.name != origin:
            raise LogMismatchError("the checkpoint key must be named after the log's origin")
        self._engine = engine
        self._origin = origin
        self._signer = signer
        self._clock = clock or SystemClock()
        self._batch = batch_size

    def integrate(self) -> Checkpoint | None:
        """Integrate up to one batch of pending entries; returns the new checkpoint, or None if none pending."""
        try:
            with self._engine.connect() as conn:
                has_pending = conn.execute(select(entries.c.id).where(entries.c.leaf_index.is_(None)).limit(1)).first()
                conn.commit()
                if has_pending is None:
                    return None
                checkpoint = self._integrate(conn)
                conn.commit()
                return checkpoint
        except SQLAlchemyError as exc:
            raise StoreError(f"audit integration failed ({type(exc).__name__})") from exc

    def integrate_pending(self) -> Checkpoint | None:
        """Integrate batches until nothing is pending; returns the last checkpoint published."""
        last = None
        while (cp := self.integrate()) is not None:
            last = cp
        return last

    def _integrate(self, conn: Connection) -> Checkpoint | None:
        """One integration step, in CONN's transaction.

        1. Take the log's write lock by updating the state row first (row lock on PostgreSQL, the
           database write lock on SQLite): stops two integrators assigning the same indices.
        2. Read the tree state after the lock, and the oldest pending entries in id order.
        3. Extend the right-edge tiles with their leaf hashes and compute the new root from them.
        4. Assign dense leaf indices (only to rows still unsequenced), write the changed tiles.
        5. Sign the checkpoint and store it with the new state (compare-and-set on the old size): the
           tree, its leaves and its signed head commit together or not at all.
        """
        now = _format_time(self._clock.now())
        locked = conn.execute(update(state).where(state.c.id == 1).values(integrated_at=now))  # step 1
        if locked.rowcount != 1:
            raise StoreError("the audit log is not initialised")
        head = conn.execute(select(state.c.origin, state.c.tree_size).where(state.c.id == 1)).one()  # step 2
        if head.origin != self._origin:
            raise LogMismatchError("this database holds another audit log")
        old_size = int(head.tree_size)
        pending = conn.execute(
            select(entries.c.id, entries.c.leaf_hash)
            .where(entries.c.leaf_index.is_(None))
            .order_by(entries.c.id)
            .limit(self._batch)
        ).all()
        if not pending:
            conn.rollback()
            return None
        reader = TileReader(conn)  # step 3
        edge = reader.load(TileBuilder.edge_keys(old_size))
        existing: set[TileKey] = set(edge)
        builder = TileBuilder(size=old_size, edge={t.level: t for t in edge.values()})
        changed: dict[TileKey, Tile] = {}
        for _id, h in pending:
            for tile in builder.append(bytes(h)):
                changed[tile.key] = tile
        for tile in builder.partial_tiles():
            changed[tile.key] = tile
        new_size = builder.size
        root = tree_root(new_size, TileReader(conn, extra={**edge, **changed}))
        result = conn.execute(SEQUENCE_STATEMENT, leaf_index_updates(old_size, [r.id for r in pending]))  # step 4
        if result.rowcount not in (-1, len(pending)):
            raise StoreError("another integrator sequenced the same entries")
        updates = [t for k, t in changed.items() if k in existing]
        inserts = [t for k, t in changed.items() if k not in existing]
        if inserts:
            conn.execute(
                insert(tiles),
                [{"level": t.level, "idx": t.index, "width": t.width, "hashes": t.blob} for t in inserts],
            )
        for t in updates:
            conn.execute(
                update(tiles)
                .where(tiles.c.level == t.level, tiles.c.idx == t.index)
                .values(width=t.width, hashes=t.blob)
            )
        checkpoint = Checkpoint(origin=self._origin, size=new_size, root_hash=root)  # step 5
        conn.execute(
            insert(checkpoints).values(
                tree_size=new_size, root_hash=root, note=checkpoint.sign(self._signer), created_at=now
            )
        )
        cas = conn.execute(
            update(state)
            .where(state.c.id == 1, state.c.tree_size == old_size)
            .values(tree_size=new_size, root_hash=root)
        )
        if cas.rowcount != 1:
            raise StoreError("the audit tree moved during integration")
        return checkpoint

    def run(self, stop: threading.Event, *, interval: float = CHECKPOINT_INTERVAL_S) -> None:
        """Integrate on a fixed beat until STOP is set, then flush what is left."""
        deadline = time.monotonic()
        while not stop.is_set():
            try:
                self.integrate_pending()
            except StoreError as exc:  # e.g. a lock held too long; the next beat retries
                log.warning("audit integration failed: %s", exc.code)
            deadline += interval
            delay = deadline - time.monotonic()
            if delay < 0:  # integration took longer than a beat: start the next one now
                deadline = time.monotonic()
                delay = 0
            stop.wait(delay)
        self.integrate_pending()

    def start(self, *, interval: float = CHECKPOINT_INTERVAL_S) -> IntegratorThread:
        """Run in a background thread; use as a context manager or call `stop()`."""
        return IntegratorThread(self, interval=interval)


class IntegratorThread:
    """A running integrator; `stop()` flushes pending entries and joins."""

    def __init__(self, integrator: Integrator, *, interval: float) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=integrator.run,
            args=(self._stop,),
            kwargs={"interval": interval},
            daemon=True,
            name="audit-integrator",
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def __enter__(self) -> IntegratorThread:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
