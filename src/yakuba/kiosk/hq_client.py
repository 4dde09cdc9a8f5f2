"""The kiosk's transport to its chain's HQ: the calls of the contract over mutual TLS on the store network."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeVar

from pydantic import BaseModel
from pydantic import ValidationError as SchemaError

from yakuba.config import ChainConfig, Deployment, KioskConfig, Role
from yakuba.errors import ConfigError, UpstreamError
from yakuba.pki import load_service_identity
from yakuba.wire import ServiceClient, client_session
from yakuba.wire.messages import (
    PATH_CHALLENGES,
    PATH_COMPLETIONS,
    PATH_HISTORY,
    PATH_ISSUANCES,
    ChallengeAnswer,
    CompletionAnswer,
    CompletionReport,
    HistoryAnswer,
    HistorySubmission,
    IssuanceAnswer,
    IssuanceSubmission,
)

__all__ = ["HqClient", "find_kiosk", "open_hq_client", "store_segment"]

_M = TypeVar("_M", bound=BaseModel)


def find_kiosk(dep: Deployment, instance: str) -> tuple[ChainConfig, KioskConfig]:
    """The chain and configuration of the kiosk INSTANCE; ConfigError if the deployment has no such kiosk."""
    for chain, kiosk in dep.kiosks():
        if kiosk.instance == instance:
            return chain, kiosk
    raise ConfigError(
        f"{instance} is not a kiosk of this deployment", ja=f"{instance} はこのデプロイメントの端末ではありません"
    )


def store_segment(dep: Deployment, instance: str) -> str:
    """The store network the kiosk INSTANCE is on (its chain's)."""
    chain, _ = find_kiosk(dep, instance)
    return f"store:{chain.id}"


class HqClient:
    """`yakuba.kiosk.service.HqLink` over an mTLS `ServiceClient` to the chain's HQ."""

    __slots__ = ("_client",)

    def __init__(self, *, client: ServiceClient) -> None:
        self._client = client

    async def challenge(self) -> ChallengeAnswer:
        # Empty body: HQ asks the center for a challenge for the kiosk its client certificate names.
        return _parse(ChallengeAnswer, await self._client.post_json(PATH_CHALLENGES, {}, idempotency_key=None))

    async def submit(self, submission: IssuanceSubmission) -> IssuanceAnswer:
        body = await self._client.post_json(
            PATH_ISSUANCES, submission.model_dump(mode="json"), idempotency_key=submission.request.transaction_id
        )
        return _parse(IssuanceAnswer, body)

    async def complete(self, report: CompletionReport) -> CompletionAnswer:
        body = await self._client.post_json(
            PATH_COMPLETIONS, report.model_dump(mode="json"), idempotency_key=report.transaction_id
        )
        return _parse(CompletionAnswer, body)

    async def history(self, submission: HistorySubmission) -> HistoryAnswer:
        body = await self._client.post_json(
            PATH_HISTORY, submission.model_dump(mode="json"), idempotency_key=submission.request.transaction_id
        )
        return _parse(HistoryAnswer, body)


@asynccontextmanager
async def open_hq_client(dep: Deployment, *, instance: str, hq_url: str | None = None) -> AsyncIterator[HqClient]:
    """A client for the kiosk INSTANCE to its chain's HQ (at HQ_URL instead of the configured address, if
    given); the mTLS session is closed on exit. Call it inside the running event loop."""
    chain, _ = find_kiosk(dep, instance)
    identity = load_service_identity(dep, instance=instance, segment_id=f"store:{chain.id}")
    async with client_session(identity, expected_role=Role.STOREHQ) as session:
        client = ServiceClient(session=session, base_url=hq_url or chain.hq.base_url, expected_role=Role.STOREHQ)
        yield HqClient(client=client)


def _parse(model: type[_M], body: dict[str, object]) -> _M:
    try:
        return model.model_validate(body)
    except SchemaError as exc:
        raise UpstreamError(f"HQ answered something that is not a {model.__name__}") from exc
