"""The center's clients of the cities' forwarding servers over LGWAN: one ServiceClient per city."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

import aiohttp
import pydantic

from yakuba.center.errors import CityNotParticipatingError
from yakuba.config import Deployment, Role
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

__all__ = ["LgwanForwarders"]

_M = TypeVar("_M", bound=pydantic.BaseModel)


class LgwanForwarders:
    """Sends routed submissions, histories and batches of completions to each city's forwarder, keyed by
    transaction id (a batch of completions by its batch id)."""

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

    async def submit(self, city: str, submission: RoutedSubmission) -> RelayedIssuanceAnswer:
        # The envelope stays the issuer's base64 text: the center checks the rest and passes it on undecoded.
        return await self._client(city).call(
            PATH_ISSUANCES, submission, RelayedIssuanceAnswer, idempotency_key=submission.request.transaction_id
        )

    async def complete_batch(self, city: str, batch: CompletionBatch) -> CompletionBatchAnswer:
        return await self._client(city).call(
            PATH_COMPLETION_BATCHES, batch, CompletionBatchAnswer, idempotency_key=batch.batch_id
        )

    async def history(self, city: str, submission: TaggedHistorySubmission) -> HistoryAnswer:
        return await self._client(city).call(
            PATH_HISTORY, submission, HistoryAnswer, idempotency_key=submission.request.transaction_id
        )

    def _client(self, city: str) -> ServiceClient:
        client = self._clients.get(city)
        if client is None:
            raise CityNotParticipatingError()
        return client
