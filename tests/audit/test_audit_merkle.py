"""Tree hashing and proofs against a naive RFC 6962 implementation written from section 2.1, and known roots."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import pytest

from yakuba.audit import ProofError, leaf_hash, verify_consistency, verify_inclusion
from yakuba.audit._merkle import EMPTY_ROOT, CompactRange, consistency_proof, inclusion_proof, tree_root
from yakuba.audit._tiles import Tile

# The RFC 6962 test leaves (as in the Go and C++ CT test suites).
RFC_LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
RFC_ROOTS = {
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}


class Naive:
    """RFC 6962 section 2.1 verbatim: MTH, PATH, PROOF/SUBPROOF over D[lo:hi], memoised for speed only."""

    def __init__(self, data: Sequence[bytes]) -> None:
        self.data = list(data)
        self.mth = lru_cache(maxsize=None)(self._mth)

    @staticmethod
    def _k(n: int) -> int:
        k = 1
        while k * 2 < n:
            k *= 2
        return k

    def _mth(self, lo: int, hi: int) -> bytes:
        n = hi - lo
        if n == 0:
            return hashlib.sha256(b"").digest()
        if n == 1:
            return hashlib.sha256(b"\x00" + self.data[lo]).digest()
        k = self._k(n)
        return hashlib.sha256(b"\x01" + self.mth(lo, lo + k) + self.mth(lo + k, hi)).digest()

    def path(self, m: int, lo: int, hi: int) -> list[bytes]:
        n = hi - lo
        if n == 1:
            return []
        k = self._k(n)
        if m < k:
            return [*self.path(m, lo, lo + k), self.mth(lo + k, hi)]
        return [*self.path(m - k, lo + k, hi), self.mth(lo, lo + k)]

    def subproof(self, m: int, lo: int, hi: int, b: bool) -> list[bytes]:
        n = hi - lo
        if m == n:
            return [] if b else [self.mth(lo, hi)]
        k = self._k(n)
        if m <= k:
            return [*self.subproof(m, lo, lo + k, b), self.mth(lo + k, hi)]
        return [*self.subproof(m - k, lo + k, hi, False), self.mth(lo, lo + k)]

    def proof(self, m: int, n: int) -> list[bytes]:
        return self.subproof(m, 0, n, True)


def _data(n: int) -> list[bytes]:
    return [i.to_bytes(4, "big") + b"leaf" for i in range(n)]


def test_empty_root_is_the_hash_of_nothing() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert CompactRange().root() == EMPTY_ROOT


@pytest.mark.parametrize("size", sorted(RFC_ROOTS))
def test_rfc6962_test_vector_roots(size: int, memory_tiles: type[Any]) -> None:
    leaves = [leaf_hash(d) for d in RFC_LEAVES[:size]]
    assert Naive(RFC_LEAVES).mth(0, size).hex() == RFC_ROOTS[size]
    assert tree_root(size, memory_tiles(leaves)).hex() == RFC_ROOTS[size]
    compact = CompactRange()
    for h in leaves:
        compact.append(h)
    assert compact.root().hex() == RFC_ROOTS[size]


def test_all_proofs_for_sizes_1_to_70_match_the_rfc_definitions(memory_tiles: type[Any]) -> None:
    data = _data(70)
    naive = Naive(data)
    tiles = memory_tiles([leaf_hash(d) for d in data])
    for n in range(1, 71):
        root = naive.mth(0, n)
        assert tree_root(n, tiles) == root
        for m in range(n):
            proof = inclusion_proof(m, n, tiles)
            assert proof == naive.path(m, 0, n), (m, n)
            verify_inclusion(leaf=leaf_hash(data[m]), index=m, size=n, proof=proof, root=root)
        for m in range(1, n + 1):
            proof = consistency_proof(m, n, tiles)
            assert proof == (naive.proof(m, n) if m < n else []), (m, n)
            verify_consistency(old_size=m, new_size=n, old_root=naive.mth(0, m), new_root=root, proof=proof)


def test_proofs_across_three_tile_levels_match_and_take_one_read_each(memory_tiles: type[Any]) -> None:
    n_max = 70_000  # > 256^2: proofs cross tile levels 0, 1 and 2
    data = _data(n_max)
    naive = Naive(data)
    tiles = memory_tiles([leaf_hash(d) for d in data])
    rng = random.Random(6962)
    sizes = [256, 257, 65_535, 65_536, 65_537, n_max, *(rng.randrange(1, n_max) for _ in range(6))]
    for n in sizes:
        assert tree_root(n, tiles) == naive.mth(0, n)
        for m in {0, n - 1, rng.randrange(n)}:
            before = tiles.reads
            assert inclusion_proof(m, n, tiles) == naive.path(m, 0, n)
            assert tiles.reads == before + 1
        for m in {1, n // 2 or 1, rng.randrange(1, n + 1)}:
            assert consistency_proof(m, n, tiles) == (naive.proof(m, n) if m < n else [])


def _flip(h: bytes) -> bytes:
    return bytes([h[0] ^ 1]) + h[1:]


def test_tampered_inclusion_proofs_are_refused() -> None:
    data = _data(21)
    naive = Naive(data)
    root, leaf = naive.mth(0, 21), leaf_hash(data[5])
    proof = naive.path(5, 0, 21)
    verify_inclusion(leaf=leaf, index=5, size=21, proof=proof, root=root)
    bad_cases = [
        {"proof": [_flip(proof[0]), *proof[1:]]},
        {"proof": proof[:-1]},
        {"proof": [*proof, proof[0]]},
        {"index": 6},
        {"size": 8},  # same-shaped sizes (21 vs 22) are bound to the root only by the signed checkpoint
        {"leaf": leaf_hash(data[6])},
        {"root": _flip(root)},
        {"index": 21},
        {"proof": [proof[0][:31], *proof[1:]]},
    ]
    for case in bad_cases:
        args = {"leaf": leaf, "index": 5, "size": 21, "proof": proof, "root": root, **case}
        with pytest.raises(ProofError):
            verify_inclusion(**args)  # type: ignore[arg-type]


def test_tampered_consistency_proofs_are_refused() -> None:
    data = _data(21)
    naive = Naive(data)
    old, new = naive.mth(0, 13), naive.mth(0, 21)
    proof = naive.proof(13, 21)
    verify_consistency(old_size=13, new_size=21, old_root=old, new_root=new, proof=proof)
    bad_cases = [
        {"proof": [_flip(proof[0]), *proof[1:]]},
        {"proof": proof[:-1]},
        {"proof": [*proof, proof[0]]},
        {"proof": []},
        {"old_size": 12},
        {"new_size": 64},
        {"old_root": _flip(old)},
        {"new_root": _flip(new)},
        {"old_size": 22},
    ]
    for case in bad_cases:
        args = {"old_size": 13, "new_size": 21, "old_root": old, "new_root": new, "proof": proof, **case}
        with pytest.raises(ProofError):
            verify_consistency(**args)  # type: ignore[arg-type]
    # Equal sizes: only the same root with an empty proof; a different root is a fork.
    verify_consistency(old_size=21, new_size=21, old_root=new, new_root=new, proof=[])
    with pytest.raises(ProofError):
        verify_consistency(old_size=21, new_size=21, old_root=old, new_root=new, proof=[])


def test_tile_blob_keeps_the_interior_and_a_full_tile_yields_its_root() -> None:
    leaves = [leaf_hash(d) for d in _data(256)]
    tile, root = Tile.build(level=0, index=0, base=leaves)
    assert root == Naive(_data(256)).mth(0, 256)
    assert len(tile.blob) == 32 * (256 + 128 + 64 + 32 + 16 + 8 + 4 + 2)
    assert tile.node(7, 1) == Naive(_data(256)).mth(128, 256)
    partial, none = Tile.build(level=0, index=0, base=leaves[:5])
    assert none is None
    with pytest.raises(LookupError):
        partial.node(1, 2)  # leaves 4..5: the second one is not there yet
