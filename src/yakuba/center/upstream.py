"""The center's clients of the cities' forwarding servers over LGWAN: one ServiceClient per city."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import aiohttp
import pydantic

from yakuba.center.errors import CityNotParticipatingError
from yakuba.config import Deployment, Role
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

__all__ = ["LgwanForwarders"]

_M = TypeVar("_M", bound=pydantic.BaseModel)


class LgwanForwarders:
    """Sends routed submissions and completions to each city's forwarder, keyed by transaction id."""

    __slots__ = ("_clients",)

    def __init__(self, *, clients: Mapping[str, ServiceClient]) -> None:
        self._clients = dict(clients)

    @classmethod
    def from_deployment(cls, dep: Deployment, *, session: aiohttp.ClientSession) -> LgwanForwarders:
        """A client per city of DEP over SESSION (a `client_session(..., expected_role=FORWARDER)` on lgwan)."""
        return cls(
            clients={
                city.code: ServiceClient(
                    session=session, base_url=city.forwarder.base_url, expected_role=Role.FORWARDER
                )
                for city in dep.cities
            }
        )

    async def submit(self, city: str, submission: RoutedSubmission) -> IssuanceAnswer:
        body = submission.model_dump(mode="json")
        document = await self._client(city).post_json(
            PATH_ISSUANCES, body, idempotency_key=submission.request.transaction_id
        )
        return _validate(IssuanceAnswer, document)

    async def complete(self, city: str, completion: TaggedCompletion) -> CompletionAnswer:
        body = completion.model_dump(mode="json")
        document = await self._client(city).post_json(PATH_COMPLETIONS, body, idempotency_key=completion.transaction_id)
        return _validate(CompletionAnswer, document)

    async def history(self, city: str, submission: TaggedHistorySubmission) -> HistoryAnswer:
        body = submission.model_dump(mode="json")
        document = await self._client(city).post_json(
            PATH_HISTORY, body, idempotency_key=submission.request.transaction_id
        )
        return _validate(HistoryAnswer, document)

    def _client(self, city: str) -> ServiceClient:
        client = self._clients.get(city)
        if client is None:
            raise CityNotParticipatingError()
        return client


def _validate(model: type[_M], document: Any) -> _M:
    try:
        return model.model_validate(document)
    except pydantic.ValidationError as exc:
        raise UpstreamError(f"the city's forwarder answered a malformed {model.__name__}") from exc
