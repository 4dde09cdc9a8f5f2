"""How a transaction ended at the kiosk: its completion report, and the batches the HQ sends on."""

from __future__ import annotations

import enum
from typing import Annotated

from pydantic import Field, model_validator

from yakuba.wire.messages._fields import MAX_COPIES, CityCode, InstanceId, Kind, TransactionId, _Message

__all__ = [
    "BATCH_ID_PREFIX",
    "MAX_COMPLETION_BATCH",
    "BatchId",
    "CompletionAnswer",
    "CompletionBatch",
    "CompletionBatchAnswer",
    "CompletionReport",
    "CompletionResult",
    "Outcome",
    "TaggedCompletion",
]


class Outcome(enum.StrEnum):
    """How a transaction ended at the kiosk."""

    PRINTED = "printed"
    """At least one copy printed and was charged."""
    JAM_VOIDED = "jam_voided"
    """Every copy jammed: stamped 無効 and destroyed, nothing charged."""
    ABANDONED = "abandoned"
    """Refused before printing (binding or signature check failed, payment cancelled, timeout): nothing charged."""


class CompletionReport(_Message):
    """kiosk -> HQ: how the transaction ended. The HQ answers once its billing line is closed (durable); the
    center, the city's forwarder and the issuer hear of it from the HQ's outbox moments later."""

    transaction_id: TransactionId
    outcome: Outcome
    copies_printed: int = Field(ge=0, le=MAX_COPIES)
    copies_voided: int = Field(ge=0, le=MAX_COPIES)
    reason: str = Field(default="", max_length=64, pattern=r"^[a-z0-9_]*$", description="a code, never free text")


class TaggedCompletion(CompletionReport):
    """HQ -> center -> forwarder -> issuer: the completion with the routing the relays need. The HQ builds it
    from its own closed billing line and sends it on in a CompletionBatch from its outbox, after the kiosk was
    answered (yakuba.storehq._reporter)."""

    chain_id: InstanceId
    kiosk_id: InstanceId
    city: CityCode
    kind: Kind


class CompletionAnswer(_Message):
    """Acknowledgement; ``closed`` is false when the transaction was already closed (a retried report)."""

    transaction_id: TransactionId
    closed: bool


# -- completions in batches (HQ -> center -> forwarder -> issuer) ------------------------------------------

MAX_COMPLETION_BATCH = 100
"""Completions in one batch: a tenth of a second of a busy chain; small enough that one batch is one short
database transaction at each hop."""

BATCH_ID_PREFIX = "batch-"
"""A batch travels under ``Idempotency-Key: batch-<32 hex>``; every completion in it is idempotent by itself
(a repeated one answers ``closed=false``), so a retried batch changes nothing twice."""

BatchId = Annotated[str, Field(pattern=r"^batch-[0-9a-f]{32}$")]


class CompletionBatch(_Message):
    """HQ -> center -> forwarder -> issuer: completions the kiosks reported, sent on together off the resident's
    path. Each item is judged on its own; one refused item never refuses the others."""

    batch_id: BatchId
    completions: list[TaggedCompletion] = Field(min_length=1, max_length=MAX_COMPLETION_BATCH)

    @model_validator(mode="after")
    def _distinct(self) -> CompletionBatch:
        ids = [c.transaction_id for c in self.completions]
        if len(set(ids)) != len(ids):
            raise ValueError("a transaction appears twice in one batch")
        return self


class CompletionResult(_Message):
    """What became of one completion of a batch.

    Exactly one of: ``closed`` (accepted: true when this report closed the transaction, false when it was
    closed already), or ``error`` (the code of the error that refused this report). ``retry`` tells
    a transient error (a city that could not be reached: send it again later) from a final refusal (a report
    that does not match its transaction: resending it will never help; the operator must look).
    """

    transaction_id: TransactionId
    closed: bool | None = None
    error: str | None = Field(default=None, pattern=r"^[a-z0-9_]{1,64}$")
    retry: bool = False

    @model_validator(mode="after")
    def _one_of(self) -> CompletionResult:
        if (self.closed is None) == (self.error is None):
            raise ValueError("a result is either closed or an error")
        if self.retry and self.error is None:
            raise ValueError("only an error can be retried")
        return self


class CompletionBatchAnswer(_Message):
    """One result per completion of the batch, in the batch's order."""

    batch_id: BatchId
    results: list[CompletionResult] = Field(min_length=1, max_length=MAX_COMPLETION_BATCH)

    def matches(self, batch: CompletionBatch) -> bool:
        """Whether this answers BATCH: same batch id, and a result for each completion, in order (a relay or
        a peer mixing up batches must not close the wrong transactions)."""
        return self.batch_id == batch.batch_id and [r.transaction_id for r in self.results] == [
            c.transaction_id for c in batch.completions
        ]
