"""The audit log's persistence: SQL tables, appends, integration, proofs and full verification."""

from yakuba.audit._store._integrator import CHECKPOINT_INTERVAL_S, MAX_BATCH, Integrator, IntegratorThread
from yakuba.audit._store._log import (
    MAX_HISTORY_ENTRIES,
    RESIDENT_VISIBLE_FIELDS,
    AppendedEntry,
    AuditLog,
    ConsistencyProof,
    InclusionProof,
    StoredEntry,
    SubjectEvent,
    TreeState,
)
from yakuba.audit._store._verify import LogReport, verify_log
from yakuba.audit._store._witnessing import Cosigner, SqlWitnessState, request_cosignature

__all__ = [
    "CHECKPOINT_INTERVAL_S",
    "MAX_BATCH",
    "MAX_HISTORY_ENTRIES",
    "RESIDENT_VISIBLE_FIELDS",
    "AppendedEntry",
    "AuditLog",
    "ConsistencyProof",
    "Cosigner",
    "InclusionProof",
    "Integrator",
    "IntegratorThread",
    "LogReport",
    "SqlWitnessState",
    "StoredEntry",
    "SubjectEvent",
    "TreeState",
    "request_cosignature",
    "verify_log",
]
