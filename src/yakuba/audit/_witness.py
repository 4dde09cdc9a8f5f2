"""The witness: a second party that cosigns a log's checkpoint only if it extends the last one it saw."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from yakuba.audit._checkpoint import verify_checkpoint
from yakuba.audit._merkle import verify_consistency
from yakuba.audit._note import CosignatureSigner, NoteSignature, NoteVerifier
from yakuba.audit.errors import CheckpointError, ForkError, ProofError, WitnessConflictError
from yakuba.clock import Clock, SystemClock

__all__ = ["MemoryWitnessState", "TreeHead", "Witness", "WitnessState"]


@dataclass(frozen=True, slots=True, kw_only=True)
class TreeHead:
    """What a witness remembers of a log: the largest consistent size it cosigned, and its root."""

    size: int
    root_hash: bytes


class WitnessState(Protocol):
    """The witness's memory, one head per log origin; `replace` is compare-and-set."""

    def latest(self, origin: str) -> TreeHead | None: ...

    def replace(self, origin: str, *, old: TreeHead | None, new: TreeHead) -> bool: ...


class MemoryWitnessState:
    """WitnessState in process memory: for tests and a single-process witness."""

    def __init__(self) -> None:
        self._heads: dict[str, TreeHead] = {}
        self._lock = threading.Lock()

    def latest(self, origin: str) -> TreeHead | None:
        with self._lock:
            return self._heads.get(origin)

    def replace(self, origin: str, *, old: TreeHead | None, new: TreeHead) -> bool:
        with self._lock:
            if self._heads.get(origin) != old:
                return False
            self._heads[origin] = new
            return True


class Witness:
    """Cosigns checkpoints of known logs with a `cosignature/v1` (C2SP tlog-cosignature, type 0x04).

    The request shape follows C2SP tlog-witness `add-checkpoint`: the log sends the new checkpoint, the
    size it believes the witness last saw, and a consistency proof from that size.
    """

    def __init__(
        self,
        *,
        signer: CosignatureSigner,
        logs: Mapping[str, NoteVerifier],
        state: WitnessState,
        clock: Clock | None = None,
    ) -> None:
        self.signer = signer
        self._logs = dict(logs)
        self._state = state
        self._clock = clock or SystemClock()

    @property
    def name(self) -> str:
        return self.signer.name

    def known_size(self, origin: str) -> int:
        """The size of the last checkpoint this witness cosigned for ORIGIN (0 if none)."""
        head = self._state.latest(origin)
        return head.size if head else 0

    def add_checkpoint(self, note: str, *, old_size: int, proof: Sequence[bytes]) -> NoteSignature:
        """Check NOTE against the last head seen for its log and cosign it; returns the cosignature.

        1. Verify the log's signature with the key configured for the note's origin: stops forged heads
           and heads of logs this witness does not serve.
        2. OLD_SIZE must be the size this witness last cosigned (WitnessConflictError tells the log which):
           stops a proof built from a head the witness never saw.
        3. The new size must not be smaller: stops rolling the witness back to an older view.
        4. Verify the consistency proof from the remembered root to the new root: stops a log showing
           two histories (a fork) - a different root at the same size is refused too.
        5. Remember the new head with compare-and-set: stops two racing requests from rewinding the state.
        6. Sign `cosignature/v1` with the current time.
        """
        origin = _origin_of(note)
        log_key = self._logs.get(origin)
        if log_key is None:
            raise CheckpointError("this witness does not serve that log")
        cp = verify_checkpoint(note, log_key=log_key, origin=origin)  # step 1
        checkpoint = cp.checkpoint
        last = self._state.latest(origin)
        last_size = last.size if last else 0
        if old_size != last_size:  # step 2
            raise WitnessConflictError(f"the witness last saw size {last_size}, not {old_size}", known_size=last_size)
        if checkpoint.size < last_size:  # step 3
            raise ForkError(f"checkpoint size {checkpoint.size} is smaller than the {last_size} already seen")
        if last is not None:  # step 4
            try:
                verify_consistency(
                    old_size=last.size,
                    new_size=checkpoint.size,
                    old_root=last.root_hash,
                    new_root=checkpoint.root_hash,
                    proof=proof,
                )
            except ProofError as exc:
                raise ForkError(
                    f"checkpoint of size {checkpoint.size} is not consistent with size {last.size} seen before"
                ) from exc
        new = TreeHead(size=checkpoint.size, root_hash=checkpoint.root_hash)
        if not self._state.replace(origin, old=last, new=new):  # step 5
            raise WitnessConflictError("another request advanced the witness meanwhile", known_size=last_size)
        timestamp = int(self._clock.now().timestamp())  # step 6
        blob = self.signer.sign(cp.note.text.encode("utf-8"), timestamp=timestamp)
        return NoteSignature(name=self.signer.name, key_id=self.signer.key_id, signature=blob[4:])


def _origin_of(note: str) -> str:
    first, _nl, _rest = note.partition("\n")
    if not first:
        raise CheckpointError("the note does not start with an origin line")
    return first
