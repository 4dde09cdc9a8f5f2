"""Errors of the audit log, as subclasses of the one yakuba error tree."""

from __future__ import annotations

from yakuba.errors import ConfigError, NotFoundError, VerificationError

__all__ = [
    "CheckpointError",
    "EntryNotFoundError",
    "ForkError",
    "LogIntegrityError",
    "LogMismatchError",
    "ProofError",
    "WitnessConflictError",
]


class ProofError(VerificationError):
    """An inclusion or consistency proof does not verify against the tree heads it claims to link."""

    code = "audit_proof_invalid"


class CheckpointError(VerificationError):
    """A checkpoint is malformed, carries no valid signature from the expected key, or names another log."""

    code = "audit_checkpoint_invalid"


class ForkError(VerificationError):
    """Two checkpoints of one log cannot both be true: the log has shown two different histories."""

    code = "audit_fork"


class WitnessConflictError(VerificationError):
    """The witness has seen a different latest size than the caller assumed; retry from `known_size`."""

    code = "audit_witness_conflict"
    http_status = 409

    def __init__(self, detail: str, *, known_size: int) -> None:
        self.known_size = known_size
        super().__init__(detail)


class LogIntegrityError(VerificationError):
    """The stored log disagrees with itself or with its signed checkpoints; `index` is the first bad entry."""

    code = "audit_log_tampered"

    def __init__(self, detail: str, *, index: int | None) -> None:
        self.index = index
        super().__init__(detail)


class EntryNotFoundError(NotFoundError):
    """No entry with that index exists in the integrated tree."""

    code = "audit_entry_not_found"


class LogMismatchError(ConfigError):
    """The database holds a different log (another origin) than the one asked for."""

    code = "audit_log_mismatch"
