"""The tree in SQL: reading tiles for proofs, and the statement that sequences entries into leaves."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import Connection, Select, and_, bindparam, or_, select, update

from yakuba.audit._merkle import NodeId
from yakuba.audit._store._tables import entries, tiles
from yakuba.audit._tiles import Tile, TileKey, locate, tiles_for_nodes
from yakuba.audit.errors import LogIntegrityError

__all__ = ["SEQUENCE_STATEMENT", "TileReader", "leaf_index_updates"]

_SELECT_TILES: dict[int, Select[int, int, int, bytes]] = {}
"""One statement per number of tiles wanted, built once: a proof costs one cached statement, not a fresh
compilation. The keys are an OR of (level, idx) pairs, not a row-value IN: SQLite answers the OR with
one primary-key search per pair, while it scans the whole table for `(level, idx) IN (VALUES ...)`."""


def _select_tiles(count: int) -> Select[int, int, int, bytes]:
    stmt = _SELECT_TILES.get(count)
    if stmt is None:
        stmt = select(tiles.c.level, tiles.c.idx, tiles.c.width, tiles.c.hashes).where(
            or_(*(and_(tiles.c.level == bindparam(f"l{i}"), tiles.c.idx == bindparam(f"i{i}")) for i in range(count)))
        )
        _SELECT_TILES[count] = stmt
    return stmt


class TileReader:
    """NodeReader over the tiles table: one query per proof, whatever the tree size."""

    def __init__(self, conn: Connection, *, extra: Mapping[TileKey, Tile] | None = None) -> None:
        self._conn = conn
        self._cache: dict[TileKey, Tile] = dict(extra or {})

    def load(self, keys: Iterable[TileKey]) -> dict[TileKey, Tile]:
        wanted = [k for k in set(keys) if k not in self._cache]
        if wanted:
            params: dict[str, int] = {}
            for i, (level, idx) in enumerate(wanted):
                params[f"l{i}"] = level
                params[f"i{i}"] = idx
            rows = self._conn.execute(_select_tiles(len(wanted)), params)
            for level, idx, width, blob in rows:
                self._cache[(level, idx)] = Tile(level=level, index=idx, width=width, blob=bytes(blob))
        return self._cache

    def read_nodes(self, nodes: Sequence[NodeId]) -> list[bytes]:
        cache = self.load(tiles_for_nodes(nodes))
        out = []
        for node in nodes:
            key, row, pos = locate(node)
            tile = cache.get(key)
            if tile is None:
                raise LogIntegrityError(f"tile {key} of the tree is missing", index=None)
            try:
                out.append(tile.node(row, pos))
            except LookupError as exc:
                raise LogIntegrityError(f"tile {key} of the tree is shorter than the tree", index=None) from exc
        return out


def leaf_index_updates(first_index: int, entry_ids: Sequence[int]) -> list[dict[str, int]]:
    """Parameters for sequencing ENTRY_IDS as consecutive leaves from FIRST_INDEX."""
    return [{"eid": eid, "li": first_index + i} for i, eid in enumerate(entry_ids)]


SEQUENCE_STATEMENT = (
    update(entries)
    .where(entries.c.id == bindparam("eid"))
    .where(entries.c.leaf_index.is_(None))
    .values(leaf_index=bindparam("li"))
)
