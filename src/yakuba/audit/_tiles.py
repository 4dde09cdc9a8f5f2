"""Tiles: the tree's complete subtree hashes stored in blocks of 256, as in C2SP tlog-tiles, plus their interior."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from yakuba.audit._merkle import HASH_SIZE, NodeId, node_hash

__all__ = ["TILE_HEIGHT", "TILE_WIDTH", "Tile", "TileBuilder", "TileKey", "locate", "tiles_for_nodes"]

TILE_HEIGHT = 8
"""Tree levels per tile, as tlog-tiles: 256 hashes per full tile keeps proofs of 10^7 leaves to 3-4 tile reads."""

TILE_WIDTH = 1 << TILE_HEIGHT

TileKey = tuple[int, int]
"""(tile level, tile index): tile level L holds tree levels 8L .. 8L+7."""


def _row_offsets(width: int) -> list[int]:
    """Start (in hashes) of each of the TILE_HEIGHT rows in a tile blob whose base row has WIDTH hashes."""
    offsets = []
    pos = 0
    for r in range(TILE_HEIGHT):
        offsets.append(pos)
        pos += width >> r
    return offsets


@dataclass(frozen=True, slots=True, kw_only=True)
class Tile:
    """One tile: the base row of up to 256 hashes and every complete interior node above it (levels +1..+7).

    tlog-tiles stores only the base row; storing the interior too (less than twice the bytes) means a
    proof reads its hashes instead of recomputing up to 255 of them per tile.
    """

    level: int
    index: int
    width: int
    blob: bytes

    @classmethod
    def build(cls, *, level: int, index: int, base: Sequence[bytes]) -> tuple[Tile, bytes | None]:
        """The tile over BASE, and its root (the next tile level's node) when the tile is full."""
        width = len(base)
        if not 0 < width <= TILE_WIDTH:
            raise ValueError(f"a tile holds 1..{TILE_WIDTH} hashes, not {width}")
        rows: list[bytes] = []
        row = list(base)
        for _r in range(TILE_HEIGHT):
            rows.extend(row)
            row = [node_hash(row[i], row[i + 1]) for i in range(0, len(row) - 1, 2)]
        root = row[0] if width == TILE_WIDTH else None
        return cls(level=level, index=index, width=width, blob=b"".join(rows)), root

    @property
    def key(self) -> TileKey:
        return (self.level, self.index)

    def base(self) -> list[bytes]:
        """The base row: leaf hashes for tile level 0, roots of full lower tiles above."""
        b = self.blob
        return [b[i * HASH_SIZE : (i + 1) * HASH_SIZE] for i in range(self.width)]

    def base_hash(self, position: int) -> bytes:
        return self.blob[position * HASH_SIZE : (position + 1) * HASH_SIZE]

    def node(self, row: int, position: int) -> bytes:
        """The hash at ROW (0 = base) and POSITION within this tile; it must be complete."""
        if position >= self.width >> row:
            raise LookupError(f"node {position} of row {row} is not complete in tile {self.key}")
        start = (_row_offsets(self.width)[row] + position) * HASH_SIZE
        return self.blob[start : start + HASH_SIZE]


def locate(node: NodeId) -> tuple[TileKey, int, int]:
    """The tile holding tree NODE, and the node's row and position inside it."""
    level, index = node
    tile_level, row = divmod(level, TILE_HEIGHT)
    shift = TILE_HEIGHT - row
    return (tile_level, index >> shift), row, index & ((1 << shift) - 1)


def tiles_for_nodes(nodes: Iterable[NodeId]) -> set[TileKey]:
    return {locate(n)[0] for n in nodes}


class TileBuilder:
    """Extends the tiles along the right edge as leaf hashes arrive; emits every tile it changed.

    Starts from the partial right-edge tiles of a tree of `size` leaves (empty for a new tree), so the
    integrator touches only O(batch + log n) hashes per checkpoint, and the verifier can rebuild every
    tile of a log streaming, in constant memory per level.
    """

    def __init__(self, *, size: int = 0, edge: Mapping[int, Tile] | None = None) -> None:
        self.size = size
        self._rows: list[list[bytes]] = []
        self._next_index: list[int] = []
        self._dirty: list[bool] = []
        edge = edge or {}
        level = 0
        while size >> (TILE_HEIGHT * level):
            count = size >> (TILE_HEIGHT * level)
            width = count % TILE_WIDTH
            tile_index = count // TILE_WIDTH
            row: list[bytes] = []
            if width:
                tile = edge.get(level)
                if tile is None or tile.index != tile_index or tile.width < width:
                    raise LookupError(f"right-edge tile ({level}, {tile_index}) of width {width} is missing")
                row = tile.base()[:width]
            self._rows.append(row)
            self._next_index.append(tile_index)
            self._dirty.append(False)
            level += 1

    @staticmethod
    def edge_keys(size: int) -> list[TileKey]:
        """The partial tiles a builder resuming at SIZE needs."""
        keys = []
        level = 0
        while size >> (TILE_HEIGHT * level):
            count = size >> (TILE_HEIGHT * level)
            if count % TILE_WIDTH:
                keys.append((level, count // TILE_WIDTH))
            level += 1
        return keys

    def _ensure(self, level: int) -> None:
        while len(self._rows) <= level:
            self._rows.append([])
            self._next_index.append(0)
            self._dirty.append(False)

    def append(self, leaf: bytes) -> list[Tile]:
        """Add the next leaf hash; returns the tiles it completed (none most of the time)."""
        self.size += 1
        done: list[Tile] = []
        level = 0
        h: bytes | None = leaf
        while h is not None:
            self._ensure(level)
            row = self._rows[level]
            row.append(h)
            self._dirty[level] = True
            h = None
            if len(row) == TILE_WIDTH:
                tile, h = Tile.build(level=level, index=self._next_index[level], base=row)
                done.append(tile)
                self._rows[level] = []
                self._next_index[level] += 1
                self._dirty[level] = False
            level += 1
        return done

    def partial_tiles(self, *, only_changed: bool = True) -> list[Tile]:
        """The right-edge partial tiles (changed since the start, or all of them)."""
        out = []
        for level, row in enumerate(self._rows):
            if row and (self._dirty[level] or not only_changed):
                tile, _root = Tile.build(level=level, index=self._next_index[level], base=row)
                out.append(tile)
        return out
