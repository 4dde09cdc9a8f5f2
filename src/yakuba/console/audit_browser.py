"""The audit log browser: the city's logs, their entries and signed checkpoint, whole-log and inclusion checks."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from yakuba.audit import (
    DeploymentLog,
    LogIntegrityError,
    StoredEntry,
    open_deployment_log,
    verify_entry_inclusion,
    verify_log,
)
from yakuba.audit.errors import ProofError
from yakuba.config import CityConfig, Deployment
from yakuba.errors import NotFoundError, VerificationError

__all__ = [
    "AUDIT_PAGE_SIZE",
    "AuditPage",
    "LogCheck",
    "ProofCheck",
    "city_log_names",
    "prove_entry",
    "read_page",
    "verify_whole_log",
]

AUDIT_PAGE_SIZE = 30
"""Entries per page of the browser."""


def city_log_names(city: CityConfig) -> list[str]:
    """The audit logs of the city: each issuer's, and the registry's (`registry-<code>`)."""
    return [issuer.instance for issuer in city.issuers] + [f"registry-{city.code}"]


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditPage:
    """One page of a log: its size, pending entries, the latest signed checkpoint and entries."""

    name: str
    origin: str
    tree_size: int
    pending: int
    checkpoint: str | None
    entries: list[StoredEntry]
    start: int


@dataclass(frozen=True, slots=True, kw_only=True)
class LogCheck:
    """The outcome of recomputing a whole log."""

    ok: bool
    message: str
    index: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ProofCheck:
    """An entry's inclusion proof against the signed checkpoint, checked."""

    ok: bool
    leaf_index: int
    tree_size: int
    leaf_hash: str
    hashes: list[str]
    checkpoint: str
    message: str


@contextmanager
def _opened(dep: Deployment, city: CityConfig, name: str) -> Iterator[DeploymentLog]:
    if name not in city_log_names(city):
        raise NotFoundError("no such audit log for this city", ja="この市区町村の監査ログではありません")
    opened = open_deployment_log(dep, name)
    try:
        yield opened
    finally:
        opened.log.engine.dispose()


def read_page(dep: Deployment, city: CityConfig, name: str, *, start: int | None = None) -> AuditPage:
    """Entries START.. of log NAME, the newest page when START is None (no personal data: entries hold ids,
    kinds and keyed subject hashes)."""
    with _opened(dep, city, name) as opened:
        log = opened.log
        state = log.tree_state()
        if start is None:
            start = max(0, state.size - AUDIT_PAGE_SIZE)
        return AuditPage(
            name=name,
            origin=state.origin,
            tree_size=state.size,
            pending=log.pending_count(),
            checkpoint=log.checkpoint(),
            entries=log.entries(start=max(0, start), limit=AUDIT_PAGE_SIZE),
            start=max(0, start),
        )


def verify_whole_log(dep: Deployment, city: CityConfig, name: str) -> LogCheck:
    """Recompute log NAME end to end against its public key (`yakuba audit verify`)."""
    with _opened(dep, city, name) as opened:
        try:
            report = verify_log(opened.log.engine, log_key=opened.verifier)
        except LogIntegrityError as exc:
            return LogCheck(ok=False, message=exc.text_en, index=exc.index)
    return LogCheck(
        ok=True,
        message=(
            f"{report.entries} entries, tree size {report.tree_size}, {report.checkpoints} checkpoints, "
            f"{report.tiles} tiles verified; {report.pending} pending; "
            f"root {base64.b64encode(report.root_hash).decode()}"
        ),
    )


def prove_entry(dep: Deployment, city: CityConfig, name: str, index: int) -> ProofCheck:
    """The inclusion proof of entry INDEX in log NAME, checked against the signed checkpoint (`yakuba audit
    prove`): the checkpoint's signature by the log's key, then the proof's path to its root."""
    with _opened(dep, city, name) as opened:
        log = opened.log
        if index < 0 or index >= log.tree_state().size:
            raise NotFoundError("that entry is not in the tree yet", ja="その項目はまだ木に含まれていません")
        proof = log.inclusion_proof(index)
        try:
            verify_entry_inclusion(
                note=proof.checkpoint,
                log_key=opened.verifier,
                leaf_hash=proof.leaf_hash,
                index=proof.leaf_index,
                proof=proof.hashes,
            )
            ok, message = True, "inclusion proven against the signed checkpoint"
        except (ProofError, VerificationError) as exc:
            ok, message = False, exc.text_en
    return ProofCheck(
        ok=ok,
        leaf_index=proof.leaf_index,
        tree_size=proof.tree_size,
        leaf_hash=base64.b64encode(proof.leaf_hash).decode(),
        hashes=[base64.b64encode(h).decode() for h in proof.hashes],
        checkpoint=proof.checkpoint,
        message=message,
    )
