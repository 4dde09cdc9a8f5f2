"""RFC 6962 / RFC 9162 Merkle tree hashing, proof planning and proof verification, free of storage."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Protocol

from yakuba.audit.errors import ProofError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactRange",
    "NodeId",
    "NodeReader",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "range_nodes",
    "root_from_nodes",
    "tree_root",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
"""SHA-256 output length; every node, leaf and root hash has it."""

MAX_PROOF_LENGTH = 64
"""A tree of at most 2^63 leaves has proofs of at most 63 hashes (+1 for consistency); longer is garbage."""

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"
_sha256 = hashlib.sha256

EMPTY_ROOT = _sha256(b"").digest()
"""MTH({}) = SHA-256() per RFC 6962 section 2.1."""

NodeId = tuple[int, int]
"""(level, index): the complete subtree of 2**level leaves starting at leaf index * 2**level."""


class NodeReader(Protocol):
    """Source of complete subtree hashes; one call per proof so a store can fetch them in one query."""

    def read_nodes(self, nodes: Sequence[NodeId]) -> list[bytes]: ...


def leaf_hash(data: bytes) -> bytes:
    """MTH({d}) = SHA-256(0x00 || d): the leaf prefix keeps a leaf from passing for an interior node."""
    return _sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right): an interior node."""
    return _sha256(_NODE_PREFIX + left + right).digest()


def _largest_power_of_two_below(n: int) -> int:
    """The k of RFC 6962: the largest power of two strictly smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def range_nodes(begin: int, end: int) -> list[NodeId]:
    """The complete subtrees whose fold is MTH(D[begin:end]), left to right.

    Valid for the ranges RFC 6962 proofs use: BEGIN is a multiple of a power of two at least as
    large as END - BEGIN, so the range splits into aligned subtrees along the binary digits of its size.
    """
    nodes: list[NodeId] = []
    size = end - begin
    pos = begin
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            nodes.append((level, pos >> level))
            pos += 1 << level
    return nodes


def root_from_nodes(hashes: Sequence[bytes]) -> bytes:
    """Fold the left-to-right subtree hashes of a range into its Merkle tree hash (right to left)."""
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def tree_root(size: int, reader: NodeReader) -> bytes:
    """MTH of the first SIZE leaves, from the O(log n) complete subtrees along the right edge."""
    return root_from_nodes(reader.read_nodes(range_nodes(0, size)))


def _inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """RFC 6962 PATH(index, D[0:size]) as leaf ranges, leaf side first."""
    out: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _largest_power_of_two_below(hi - lo)
        if index < lo + k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo += k
    out.reverse()
    return out


def _consistency_ranges(old: int, new: int) -> list[tuple[int, int]]:
    """RFC 6962 PROOF(old, D[0:new]) = SUBPROOF(old, D[0:new], true) as leaf ranges, leaf side first."""
    out: list[tuple[int, int]] = []
    lo, hi = 0, new
    complete = True
    while True:
        if old == hi:
            if not complete:
                out.append((lo, hi))
            break
        k = _largest_power_of_two_below(hi - lo)
        if old - lo <= k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo += k
            complete = False
    out.reverse()
    return out


def _resolve(ranges: Sequence[tuple[int, int]], reader: NodeReader) -> list[bytes]:
    """Fetch every subtree the ranges need in one read, then fold each range."""
    plans = [range_nodes(lo, hi) for lo, hi in ranges]
    flat = [node for plan in plans for node in plan]
    hashes = reader.read_nodes(flat)
    out: list[bytes] = []
    pos = 0
    for plan in plans:
        out.append(root_from_nodes(hashes[pos : pos + len(plan)]))
        pos += len(plan)
    return out


def inclusion_proof(index: int, size: int, reader: NodeReader) -> list[bytes]:
    """The audit path of leaf INDEX in the tree of SIZE leaves (RFC 6962 section 2.1.1)."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of size {size}")
    return _resolve(_inclusion_ranges(index, size), reader)


def consistency_proof(old: int, new: int, reader: NodeReader) -> list[bytes]:
    """The consistency proof from size OLD to size NEW (RFC 6962 section 2.1.2); empty if OLD is 0 or NEW."""
    if not 0 <= old <= new:
        raise ValueError(f"no consistency proof from size {old} to size {new}")
    if old in (0, new):
        return []
    return _resolve(_consistency_ranges(old, new), reader)


def _check_hashes(hashes: Sequence[bytes], what: str) -> None:
    if len(hashes) > MAX_PROOF_LENGTH:
        raise ProofError(f"{what} has {len(hashes)} hashes; at most {MAX_PROOF_LENGTH} are possible")
    for h in hashes:
        if len(h) != HASH_SIZE:
            raise ProofError(f"{what} holds a hash of {len(h)} bytes")


def verify_inclusion(*, leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Check that the leaf hash LEAF sits at INDEX of the tree of SIZE leaves with ROOT (RFC 9162 2.1.3.2).

    Raises ProofError; the caller must also have verified ROOT's checkpoint signature.
    """
    _check_hashes([leaf, root, *proof], "inclusion proof")
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is shorter than the tree is deep")
    if r != root:
        raise ProofError(f"inclusion proof for leaf {index} does not lead to the root of size {size}")


def verify_consistency(
    *, old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of NEW_SIZE with NEW_ROOT extends the one of OLD_SIZE with OLD_ROOT (RFC 9162 2.1.4.2).

    Raises ProofError (which a witness turns into ForkError).
    """
    _check_hashes([old_root, new_root, *proof], "consistency proof")
    if not 0 <= old_size <= new_size:
        raise ProofError(f"a tree cannot shrink from size {old_size} to {new_size}")
    if old_size == new_size:
        if proof:
            raise ProofError("a consistency proof between equal sizes must be empty")
        if old_root != new_root:
            raise ProofError(f"two different roots for the same size {new_size}")
        return
    if old_size == 0:
        if proof:
            raise ProofError("a consistency proof from the empty tree must be empty")
        return
    if not proof:
        raise ProofError("consistency proof is empty")
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is shorter than the tree is deep")
    if fr != old_root:
        raise ProofError(f"consistency proof does not reproduce the root of size {old_size}")
    if sr != new_root:
        raise ProofError(f"consistency proof does not reproduce the root of size {new_size}")


class CompactRange:
    """The right edge of a growing tree: one hash per set bit of its size, O(log n) per append and root."""

    __slots__ = ("_stack", "size")

    def __init__(self) -> None:
        self.size = 0
        self._stack: list[tuple[int, bytes]] = []

    def append(self, leaf: bytes, *, hasher: Callable[[bytes, bytes], bytes] = node_hash) -> None:
        """Add the next leaf hash, merging equal-height subtrees as the binary counter carries."""
        level = 0
        h = leaf
        stack = self._stack
        while stack and stack[-1][0] == level:
            h = hasher(stack.pop()[1], h)
            level += 1
        stack.append((level, h))
        self.size += 1

    def root(self) -> bytes:
        """MTH of the leaves appended so far."""
        return root_from_nodes([h for _level, h in self._stack])
