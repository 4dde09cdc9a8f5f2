"""The store HQ's calls to the center over the dedicated line: JSON in and out, answers checked against the contract."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel

from yakuba.wire import ServiceClient
from yakuba.wire.messages import (
    PATH_CHALLENGES,
    PATH_COMPLETION_BATCHES,
    PATH_HISTORY,
    PATH_ISSUANCES,
    ChallengeAnswer,
    ChallengeAsk,
    CompletionBatch,
    CompletionBatchAnswer,
    HistoryAnswer,
    IssuanceAnswer,
    TaggedHistorySubmission,
    TaggedSubmission,
)

__all__ = ["CenterClient"]

_M = TypeVar("_M", bound=BaseModel)


class CenterClient:
    """`yakuba.storehq.service.CenterLink` over an mTLS `ServiceClient` to the center."""

    __slots__ = ("_client",)

    def __init__(self, *, client: ServiceClient) -> None:
        self._client = client

    async def challenge(self, ask: ChallengeAsk) -> ChallengeAnswer:
        # No idempotency key: every call asks for a new challenge, and a lost one simply expires.
        return await self._client.call(PATH_CHALLENGES, ask, ChallengeAnswer, idempotency_key=None)

    async def submit(self, submission: TaggedSubmission) -> IssuanceAnswer:
        return await self._client.call(
            PATH_ISSUANCES, submission, IssuanceAnswer, idempotency_key=submission.request.transaction_id
        )

    async def complete_batch(self, batch: CompletionBatch) -> CompletionBatchAnswer:
        # The batch id is the key: a retried batch is answered, item by item, without closing anything twice.
        return await self._client.call(
            PATH_COMPLETION_BATCHES, batch, CompletionBatchAnswer, idempotency_key=batch.batch_id
        )

    async def history(self, submission: TaggedHistorySubmission) -> HistoryAnswer:
        return await self._client.call(
            PATH_HISTORY, submission, HistoryAnswer, idempotency_key=submission.request.transaction_id
        )
