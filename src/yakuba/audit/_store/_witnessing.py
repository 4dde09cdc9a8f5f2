"""The witness's memory in SQL, and the log side of asking a witness to cosign."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from yakuba.audit._checkpoint import Checkpoint
from yakuba.audit._entry import _format_time
from yakuba.audit._note import NoteSignature, parse_note
from yakuba.audit._store._log import AuditLog
from yakuba.audit._store._tables import witness_heads
from yakuba.audit._witness import TreeHead
from yakuba.errors import NotFoundError, StoreError

__all__ = ["Cosigner", "SqlWitnessState", "request_cosignature"]


class SqlWitnessState:
    """WitnessState in the witness's own database (table `audit_witness_heads`), safe across processes."""

    def __init__(self, *, engine: Engine) -> None:
        self._engine = engine

    def latest(self, origin: str) -> TreeHead | None:
        try:
            with self._engine.connect() as conn:
                row = conn.execute(
                    select(witness_heads.c.tree_size, witness_heads.c.root_hash).where(witness_heads.c.origin == origin)
                ).one_or_none()
        except SQLAlchemyError as exc:
            raise StoreError(f"reading the witness state failed ({type(exc).__name__})") from exc
        return None if row is None else TreeHead(size=int(row.tree_size), root_hash=bytes(row.root_hash))

    def replace(self, origin: str, *, old: TreeHead | None, new: TreeHead) -> bool:
        """Compare-and-set: only moves from exactly OLD (a concurrent change makes this return False)."""
        now = _format_time(dt.datetime.now(dt.UTC))
        try:
            with self._engine.begin() as conn:
                if old is None:
                    conn.execute(
                        insert(witness_heads).values(
                            origin=origin, tree_size=new.size, root_hash=new.root_hash, updated_at=now
                        )
                    )
                    return True
                result = conn.execute(
                    update(witness_heads)
                    .where(
                        witness_heads.c.origin == origin,
                        witness_heads.c.tree_size == old.size,
                        witness_heads.c.root_hash == old.root_hash,
                    )
                    .values(tree_size=new.size, root_hash=new.root_hash, updated_at=now)
                )
                return result.rowcount == 1
        except IntegrityError:
            return False
        except SQLAlchemyError as exc:
            raise StoreError(f"writing the witness state failed ({type(exc).__name__})") from exc


class Cosigner(Protocol):
    """A witness as the log sees it: in process (`Witness`) or, later, a client over the network."""

    def known_size(self, origin: str) -> int: ...

    def add_checkpoint(self, note: str, *, old_size: int, proof: Sequence[bytes]) -> NoteSignature: ...


def request_cosignature(log: AuditLog, witness: Cosigner) -> str:
    """Have WITNESS cosign the log's latest checkpoint (with a proof from the size it last saw); store it."""
    note = log.checkpoint()
    if note is None:
        raise NotFoundError("the log has no checkpoint to cosign yet")
    cp = Checkpoint.parse_body(parse_note(note).text)
    old_size = witness.known_size(log.origin)
    proof = log.consistency_proof(old_size, cp.size) if old_size <= cp.size else None
    signature = witness.add_checkpoint(note, old_size=old_size, proof=proof.hashes if proof else ())
    return log.add_cosignature(tree_size=cp.size, signature=signature)
