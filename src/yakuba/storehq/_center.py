"""The store HQ's calls to the center over the dedicated line: JSON in and out, answers checked against the contract."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel

from yakuba.wire import ServiceClient
from yakuba.wire.messages import (
    PATH_CHALLENGE_BATCHES,
    PATH_COMPLETION_BATCHES,
    PATH_HISTORY,
    PATH_ISSUANCES,
    ChallengeBatchAnswer,
    ChallengeBatchAsk,
    CompletionBatch,
    CompletionBatchAnswer,
    HistoryAnswer,
    RelayedIssuanceAnswer,
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

    async def challenges(self, ask: ChallengeBatchAsk) -> ChallengeBatchAnswer:
        # No idempotency key: every call asks for new challenges, and a lost answer's challenges simply expire.
        return await self._client.call(PATH_CHALLENGE_BATCHES, ask, ChallengeBatchAnswer, idempotency_key=None)

    async def submit(self, submission: TaggedSubmission) -> RelayedIssuanceAnswer:
        # The envelope stays the issuer's base64 text: only the kiosk decodes it, where it is opened.
        return await self._client.call(
            PATH_ISSUANCES, submission, RelayedIssuanceAnswer, idempotency_key=submission.request.transaction_id
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
