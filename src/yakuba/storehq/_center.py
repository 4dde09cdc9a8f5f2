"""The store HQ's calls to the center over the dedicated line: JSON in and out, answers checked against the contract."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel
from pydantic import ValidationError as SchemaError

from yakuba.errors import UpstreamError
from yakuba.wire import ServiceClient
from yakuba.wire.messages import (
    PATH_CHALLENGES,
    PATH_COMPLETIONS,
    PATH_HISTORY,
    PATH_ISSUANCES,
    ChallengeAnswer,
    ChallengeAsk,
    CompletionAnswer,
    HistoryAnswer,
    IssuanceAnswer,
    TaggedCompletion,
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
        body = await self._client.post_json(PATH_CHALLENGES, ask.model_dump(mode="json"), idempotency_key=None)
        return _parse(ChallengeAnswer, body)

    async def submit(self, submission: TaggedSubmission) -> IssuanceAnswer:
        body = await self._client.post_json(
            PATH_ISSUANCES, submission.model_dump(mode="json"), idempotency_key=submission.request.transaction_id
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


def _parse(model: type[_M], body: dict[str, object]) -> _M:
    try:
        return model.model_validate(body)
    except SchemaError as exc:
        # Name the schema only: the body may carry an envelope we must not log.
        raise UpstreamError(f"the center answered something that is not a {model.__name__}") from exc
