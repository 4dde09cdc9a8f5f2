"""C2SP checkpoints (signed tree heads) and the client-side checks that pair every proof with a signed head."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass

from yakuba.audit._merkle import HASH_SIZE, verify_consistency, verify_inclusion
from yakuba.audit._note import (
    CosignatureVerifier,
    Note,
    NoteSigner,
    NoteVerifier,
    Verifier,
    open_note,
    sign_note,
)
from yakuba.audit.errors import CheckpointError, ForkError, ProofError

__all__ = [
    "MAX_TREE_SIZE",
    "Checkpoint",
    "VerifiedCheckpoint",
    "verify_checkpoint",
    "verify_consistency_between",
    "verify_entry_inclusion",
]

MAX_TREE_SIZE = 2**63 - 1
"""Tree sizes are uint64 in every tlog format; we stay in the signed range so SQL BIGINT holds them."""

_SIZE = re.compile(r"^(0|[1-9][0-9]{0,18})$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Checkpoint:
    """A tree head: origin line, tree size, root hash, optional extension lines (C2SP tlog-checkpoint)."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin or self.origin != self.origin.strip():
            raise CheckpointError("a checkpoint origin is one non-empty line")
        if not 0 <= self.size <= MAX_TREE_SIZE:
            raise CheckpointError("checkpoint tree size out of range")
        if len(self.root_hash) != HASH_SIZE:
            raise CheckpointError("a checkpoint root hash has 32 bytes")
        for ext in self.extensions:
            if not ext or "\n" in ext:
                raise CheckpointError("a checkpoint extension is one non-empty line")

    def body(self) -> str:
        """The note text: origin, size, base64 root, extension lines, each ending in a newline."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root_hash).decode("ascii"), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse_body(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise CheckpointError("a checkpoint has an origin, a size and a root hash line")
        origin, size_text, root_text, *extensions = lines[:-1]
        if not _SIZE.match(size_text):
            raise CheckpointError("the checkpoint size is not a decimal without leading zeros")
        try:
            root = base64.b64decode(root_text, validate=True)
        except binascii.Error as exc:
            raise CheckpointError("the checkpoint root hash is not base64") from exc
        return cls(origin=origin, size=int(size_text), root_hash=root, extensions=tuple(extensions))

    def sign(self, signer: NoteSigner) -> str:
        """The checkpoint as a signed note."""
        return sign_note(self.body(), [signer])


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifiedCheckpoint:
    """A checkpoint whose log signature (and witness quorum, if asked) verified."""

    checkpoint: Checkpoint
    note: Note
    witnesses: tuple[str, ...]


def verify_checkpoint(
    note: str,
    *,
    log_key: NoteVerifier,
    origin: str | None = None,
    witnesses: Sequence[CosignatureVerifier | NoteVerifier] = (),
    quorum: int = 0,
) -> VerifiedCheckpoint:
    """Check a signed checkpoint and return it.

    1. The note parses and carries a valid signature by LOG_KEY; any known key's bad signature refuses
       the whole note: stops forged or altered tree heads.
    2. The text is a well-formed checkpoint: stops ambiguous sizes or roots.
    3. The origin is the one expected (default: the log key's name): stops replaying another log's head.
    4. At least QUORUM of WITNESSES cosigned it: stops a split view shown only to this client.
    """
    if quorum > len(witnesses):
        raise CheckpointError("the witness quorum is larger than the number of witnesses")
    verifiers: list[Verifier] = [log_key, *witnesses]
    parsed, ok = open_note(note, verifiers)  # step 1
    if log_key not in ok:
        raise CheckpointError("the checkpoint is not signed by the log's key")
    cp = Checkpoint.parse_body(parsed.text)  # step 2
    expected = origin if origin is not None else log_key.name
    if cp.origin != expected:  # step 3
        raise CheckpointError("the checkpoint belongs to another log")
    cosigned = tuple(v.name for v in ok if v is not log_key)
    if len(cosigned) < quorum:  # step 4
        raise CheckpointError(f"the checkpoint has {len(cosigned)} witness cosignatures; {quorum} are required")
    return VerifiedCheckpoint(checkpoint=cp, note=parsed, witnesses=cosigned)


def verify_entry_inclusion(
    *,
    note: str,
    log_key: NoteVerifier,
    leaf_hash: bytes,
    index: int,
    proof: Sequence[bytes],
    witnesses: Sequence[CosignatureVerifier | NoteVerifier] = (),
    quorum: int = 0,
) -> Checkpoint:
    """Check that a leaf is in the log: the checkpoint's signature first, then the proof against its root.

    Both halves matter: a valid proof against an unsigned root proves nothing.
    """
    cp = verify_checkpoint(note, log_key=log_key, witnesses=witnesses, quorum=quorum).checkpoint
    verify_inclusion(leaf=leaf_hash, index=index, size=cp.size, proof=proof, root=cp.root_hash)
    return cp


def verify_consistency_between(
    *, old_note: str, new_note: str, log_key: NoteVerifier, proof: Sequence[bytes]
) -> Checkpoint:
    """Check two signed checkpoints of one log and that the newer extends the older; returns the newer.

    Raises ForkError when both are signed but cannot both be true: proof of a misbehaving log.
    """
    old = verify_checkpoint(old_note, log_key=log_key).checkpoint
    new = verify_checkpoint(new_note, log_key=log_key).checkpoint
    if new.size < old.size:
        raise CheckpointError("the newer checkpoint is smaller than the older one")
    try:
        verify_consistency(
            old_size=old.size, new_size=new.size, old_root=old.root_hash, new_root=new.root_hash, proof=proof
        )
    except ProofError as exc:
        if old.size == new.size:
            raise ForkError(f"two signed checkpoints of size {new.size} with different roots") from exc
        raise
    return new
