"""The forwarder's link to one issuer: the wire client over the city backbone, answers parsed to the contract."""

from __future__ import annotations

from typing import TypeVar

import pydantic

from yakuba.errors import UpstreamError
from yakuba.wire import ServiceClient
from yakuba.wire.messages import (
    PATH_COMPLETIONS,
    PATH_HISTORY,
    PATH_ISSUANCES,
    CompletionAnswer,
    HistoryAnswer,
    IssuanceAnswer,
    RoutedSubmission,
    TaggedCompletion,
    TaggedHistorySubmission,
)

__all__ = ["ServiceIssuerLink"]

_Answer = TypeVar("_Answer", IssuanceAnswer, CompletionAnswer, HistoryAnswer)


class ServiceIssuerLink:
    """An `IssuerLink` over a ServiceClient; every call carries the transaction id as its idempotency key."""

    __slots__ = ("_client",)

    def __init__(self, *, client: ServiceClient) -> None:
        self._client = client

    async def submit(self, submission: RoutedSubmission) -> IssuanceAnswer:
        body = await self._client.post_json(
            PATH_ISSUANCES,
            submission.model_dump(mode="json"),
            idempotency_key=submission.request.transaction_id,
        )
        return _parse(IssuanceAnswer, body)

    async def complete(self, completion: TaggedCompletion) -> CompletionAnswer:
        body = await self._client.post_json(
            PATH_COMPLETIONS, completion.model_dump(mode="json"), idempotency_key=completion.transaction_id
        )
        return _parse(CompletionAnswer, body)

    async def history(self, submission: TaggedHistorySubmission) -> HistoryAnswer:
        body = await self._client.post_json(
            PATH_HISTORY, submission.model_dump(mode="json"), idempotency_key=submission.request.transaction_id
        )
        return _parse(HistoryAnswer, body)


def _parse(model: type[_Answer], body: dict[str, object]) -> _Answer:
    try:
        return model.model_validate(body)
    except pydantic.ValidationError as exc:
        # Name the model only: the body may hold the envelope and is not for logs.
        raise UpstreamError(f"the issuer's answer is not a valid {model.__name__}") from exc
