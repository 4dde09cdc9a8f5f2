"""Full verification of a stored log: every entry, every tile, every checkpoint, recomputed from scratch."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from yakuba.audit._checkpoint import Checkpoint, verify_checkpoint
from yakuba.audit._entry import AuditEntry
from yakuba.audit._merkle import EMPTY_ROOT, CompactRange, leaf_hash
from yakuba.audit._note import NoteVerifier
from yakuba.audit._store._tables import checkpoints, entries, state, tiles
from yakuba.audit._tiles import TILE_WIDTH, Tile, TileBuilder
from yakuba.audit.errors import CheckpointError, LogIntegrityError
from yakuba.errors import StoreError, ValidationError

__all__ = ["VERIFY_CHUNK", "LogReport", "verify_log"]

VERIFY_CHUNK = 8192
"""Entries read per query while verifying: constant memory for logs of any size."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LogReport:
    """What a successful verification covered."""

    origin: str
    tree_size: int
    root_hash: bytes
    entries: int
    pending: int
    checkpoints: int
    tiles: int


def verify_log(
    engine: Engine, *, log_key: NoteVerifier, progress: Callable[[int, int], None] | None = None
) -> LogReport:
    """Recompute the whole log and compare it with everything stored; raise at the first inconsistency.

    1. Every checkpoint must carry a valid signature by LOG_KEY for this log's origin: stops forged heads.
    2. Entries must hold every leaf index 0..n-1 exactly once: a gap is a deleted entry (its index).
    3. Each entry's leaf hash is recomputed from its body and must equal the stored one, and the body's
       fields must equal the indexed copies: stops an edited entry (its index).
    4. Each leaf hash must equal the tree's stored leaf at that index (level-0 tile): stops reordered,
       replaced or renumbered entries even when their own hashes were recomputed (the lower index).
    5. Every tile is rebuilt and compared: stops corrupted proofs.
    6. The recomputed root at each checkpoint's size must equal the signed root: catches a rewrite that
       was carried through the leaf hashes and tiles too (the first bad entry lies after the previous
       good checkpoint; that index is reported).
    7. The tree state must equal the recomputed root of the whole tree.
    """
    try:
        with engine.connect() as conn:
            return _verify(conn, log_key, progress)
    except SQLAlchemyError as exc:
        raise StoreError(f"reading the audit log failed ({type(exc).__name__})") from exc


def _verify(conn: Connection, log_key: NoteVerifier, progress: Callable[[int, int], None] | None) -> LogReport:
    head = conn.execute(select(state.c.origin, state.c.tree_size, state.c.root_hash)).one_or_none()
    if head is None:
        raise LogIntegrityError("the audit log has no state row", index=None)
    origin, size = str(head.origin), int(head.tree_size)
    cps = _checkpoints(conn, log_key, origin, size)  # step 1
    pending = len(conn.execute(select(entries.c.id).where(entries.c.leaf_index.is_(None))).all())

    compact = CompactRange()
    builder = TileBuilder()
    tiles_checked = 0
    good_until = 0  # size of the last checkpoint that matched
    cp_iter = iter(cps)
    next_cp = next(cp_iter, None)
    stored_tile: Tile | None = None

    def check_tiles(done: list[Tile]) -> None:
        nonlocal tiles_checked
        for tile in done:
            _compare_tile(conn, tile)
            tiles_checked += 1

    expected = 0
    for row in _entry_rows(conn):
        index = row.leaf_index
        if index != expected:  # step 2
            if index >= size:
                break
            raise LogIntegrityError(
                f"entry {expected} is missing (deleted?); the next stored entry is {index}", index=expected
            )
        if index >= size:
            raise LogIntegrityError(f"entry {index} lies beyond the tree size {size}", index=index)
        body, stored = bytes(row.body), bytes(row.leaf_hash)
        computed = leaf_hash(body)
        if computed != stored:  # step 3
            raise LogIntegrityError(f"entry {index} was changed: its content does not match its leaf hash", index=index)
        try:
            entry = AuditEntry.from_canonical_bytes(body)
        except ValidationError as exc:
            raise LogIntegrityError(f"entry {index} is not a valid audit entry", index=index) from exc
        if (entry.event_type, entry.subject, entry.time_text) != (row.event_type, row.subject_hash, row.event_time):
            raise LogIntegrityError(
                f"entry {index} was changed: its indexed fields disagree with its body", index=index
            )
        if stored_tile is None or stored_tile.index != index // TILE_WIDTH:  # step 4
            stored_tile = _load_tile(conn, 0, index // TILE_WIDTH)
        position = index % TILE_WIDTH
        if stored_tile is None or position >= stored_tile.width or stored_tile.base_hash(position) != computed:
            raise LogIntegrityError(
                f"entry {index} is not the entry the tree holds at {index} (reordered, replaced or renumbered)",
                index=index,
            )
        check_tiles(builder.append(computed))  # step 5
        compact.append(computed)
        expected += 1
        while next_cp is not None and next_cp.size == expected:  # step 6
            if compact.root() != next_cp.root_hash:
                raise LogIntegrityError(
                    f"the entries do not match the signed checkpoint of size {next_cp.size}: an entry in "
                    f"{good_until}..{next_cp.size - 1} was rewritten with its hashes",
                    index=good_until,
                )
            good_until = next_cp.size
            next_cp = next(cp_iter, None)
        if progress is not None and expected % VERIFY_CHUNK == 0:
            progress(expected, size)
    if expected != size:
        raise LogIntegrityError(f"entries {expected}..{size - 1} are missing (deleted?)", index=expected)
    check_tiles(builder.partial_tiles(only_changed=False))
    stored_count = conn.execute(select(func.count()).select_from(tiles)).scalar_one()
    if stored_count != tiles_checked:
        raise LogIntegrityError("the tiles table holds tiles the tree does not have", index=None)
    root = compact.root() if size else EMPTY_ROOT
    if root != bytes(head.root_hash):  # step 7
        raise LogIntegrityError("the stored tree state does not match the entries", index=good_until)
    if progress is not None:
        progress(size, size)
    return LogReport(
        origin=origin,
        tree_size=size,
        root_hash=root,
        entries=expected,
        pending=pending,
        checkpoints=len(cps),
        tiles=tiles_checked,
    )


def _checkpoints(conn: Connection, log_key: NoteVerifier, origin: str, size: int) -> list[Checkpoint]:
    out: list[Checkpoint] = []
    rows = conn.execute(
        select(checkpoints.c.tree_size, checkpoints.c.root_hash, checkpoints.c.note).order_by(checkpoints.c.tree_size)
    )
    for row in rows:
        try:
            cp = verify_checkpoint(row.note, log_key=log_key, origin=origin).checkpoint
        except CheckpointError as exc:
            raise CheckpointError(f"stored checkpoint of size {row.tree_size} is refused: {exc.text_en}") from exc
        if cp.size != row.tree_size or cp.root_hash != bytes(row.root_hash):
            raise CheckpointError(f"stored checkpoint of size {row.tree_size} disagrees with its own note")
        if cp.size > size:
            raise CheckpointError(f"checkpoint of size {cp.size} is larger than the tree ({size})")
        out.append(cp)
    if size and (not out or out[-1].size != size):
        raise CheckpointError(f"the tree of size {size} has no signed checkpoint")
    return out


def _entry_rows(conn: Connection) -> Iterator[Any]:
    """Integrated entries in leaf order, read in chunks by keyset (constant memory)."""
    start = 0
    while True:
        rows = conn.execute(
            select(
                entries.c.leaf_index,
                entries.c.leaf_hash,
                entries.c.body,
                entries.c.event_type,
                entries.c.subject_hash,
                entries.c.event_time,
            )
            .where(entries.c.leaf_index >= start)
            .order_by(entries.c.leaf_index)
            .limit(VERIFY_CHUNK)
        ).all()
        if not rows:
            return
        yield from rows
        start = rows[-1].leaf_index + 1


def _load_tile(conn: Connection, level: int, index: int) -> Tile | None:
    row = conn.execute(
        select(tiles.c.width, tiles.c.hashes).where(tiles.c.level == level, tiles.c.idx == index)
    ).one_or_none()
    if row is None:
        return None
    return Tile(level=level, index=index, width=row.width, blob=bytes(row.hashes))


def _compare_tile(conn: Connection, tile: Tile) -> None:
    stored = _load_tile(conn, tile.level, tile.index)
    if stored is None or stored.width != tile.width or stored.blob != tile.blob:
        first_leaf = tile.index * TILE_WIDTH ** (tile.level + 1)
        raise LogIntegrityError(
            f"stored tile ({tile.level}, {tile.index}) does not match the entries from {first_leaf}",
            index=first_leaf,
        )
