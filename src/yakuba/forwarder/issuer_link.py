"""The forwarder's link to one issuer: the wire client over the city backbone, answers parsed to the contract."""

from __future__ import annotations

from yakuba.wire import ServiceClient
from yakuba.wire.messages import (
    PATH_COMPLETION_BATCHES,
    PATH_HISTORY,
    PATH_ISSUANCES,
    CompletionBatch,
    CompletionBatchAnswer,
    HistoryAnswer,
    RelayedIssuanceAnswer,
    RoutedSubmission,
    TaggedHistorySubmission,
)

__all__ = ["ServiceIssuerLink"]


class ServiceIssuerLink:
    """An `IssuerLink` over a ServiceClient; every call carries the transaction id as its idempotency key (a
    batch of completions, its batch id)."""

    __slots__ = ("_client",)

    def __init__(self, *, client: ServiceClient) -> None:
        self._client = client

    async def submit(self, submission: RoutedSubmission) -> RelayedIssuanceAnswer:
        # Read as a RelayedIssuanceAnswer: the envelope stays the issuer's base64 text, never decoded here.
        return await self._client.call(
            PATH_ISSUANCES, submission, RelayedIssuanceAnswer, idempotency_key=submission.request.transaction_id
        )

    async def complete_batch(self, batch: CompletionBatch) -> CompletionBatchAnswer:
        return await self._client.call(
            PATH_COMPLETION_BATCHES, batch, CompletionBatchAnswer, idempotency_key=batch.batch_id
        )

    async def history(self, submission: TaggedHistorySubmission) -> HistoryAnswer:
        return await self._client.call(
            PATH_HISTORY, submission, HistoryAnswer, idempotency_key=submission.request.transaction_id
        )
