"""One completion sent as a one-report CompletionBatch, the only way a completion travels past the store HQ."""

from __future__ import annotations

import secrets

from yakuba.wire import ServiceClient
from yakuba.wire.messages import (
    PATH_COMPLETION_BATCHES,
    CompletionBatch,
    CompletionBatchAnswer,
    CompletionResult,
    TaggedCompletion,
)


async def complete_one(client: ServiceClient, completion: TaggedCompletion) -> CompletionResult:
    """Send COMPLETION over CLIENT (an HQ's to the center, the center's to a forwarder, a forwarder's to an
    issuer) as a batch of one under a fresh batch id; the result for it. A refused report comes back as a
    result with its error code, not as an exception: only a refusal of the whole batch raises."""
    batch = CompletionBatch(batch_id=f"batch-{secrets.token_hex(16)}", completions=[completion])
    body = await client.post_json(
        PATH_COMPLETION_BATCHES, batch.model_dump(mode="json"), idempotency_key=batch.batch_id
    )
    answer = CompletionBatchAnswer.model_validate(body)
    assert answer.matches(batch)
    [result] = answer.results
    return result
