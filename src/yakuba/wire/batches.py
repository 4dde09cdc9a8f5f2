"""Passing a completion batch on to the next hop (center -> forwarder -> issuer): one way to judge the answer."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from yakuba.errors import UpstreamError, YakubaError
from yakuba.wire.messages import CompletionBatch, CompletionBatchAnswer, CompletionResult

__all__ = ["batch_tally", "send_batch_on"]


async def send_batch_on(
    send: Callable[[CompletionBatch], Awaitable[CompletionBatchAnswer]],
    batch: CompletionBatch,
    *,
    to: str,
    log: logging.Logger,
) -> list[CompletionResult]:
    """SEND BATCH to the next hop (named TO in the log: never personal) and return its results, one per report.

    1. The next hop's results, when its answer `.matches` the batch it was sent.
    2. Otherwise retry=true with the error code for every report of the batch, and nothing else: the hop could
       not be reached or failed the whole batch (its YakubaError's code), failed in-process (UpstreamError's
       code), or answered with results that do not match (an integrity error, logged as such: a hop mixing up
       batches must never have its results taken for another's). The caller changes nothing for those
       reports, and the HQ sends them again.
    """
    try:
        answer = await send(batch)
    except YakubaError as exc:
        code = exc.code
    except Exception as exc:  # an in-process hop's own failure: the next hop was not reached
        code = UpstreamError.code
        log.warning("completion batch %s: %s failed (%s)", batch.batch_id, to, type(exc).__name__)
    else:
        if answer.matches(batch):  # 1
            return list(answer.results)
        log.error(
            "integrity: %s answered completion batch %s with the results of another batch; its %d reports stay open",
            to,
            batch.batch_id,
            len(batch.completions),
        )
        code = UpstreamError.code
    log.warning(  # 2
        "completion batch %s: %s not reached (%s); %d reports to retry",
        batch.batch_id,
        to,
        code,
        len(batch.completions),
    )
    return [CompletionResult(transaction_id=c.transaction_id, error=code, retry=True) for c in batch.completions]


def batch_tally(results: Sequence[CompletionResult]) -> tuple[int, int]:
    """How many RESULTS are final refusals and how many are to be retried (for the hops' log lines)."""
    refused = sum(1 for r in results if r.error is not None and not r.retry)
    return refused, sum(1 for r in results if r.retry)
