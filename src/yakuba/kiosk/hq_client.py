"""The kiosk's transport to its chain's HQ: the calls of the contract over mutual TLS on the store network."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeVar

from pydantic import BaseModel

from yakuba.config import ChainConfig, Deployment, KioskConfig, Role
from yakuba.errors import ConfigError
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
        return await self._client.call(PATH_CHALLENGES, None, ChallengeAnswer, idempotency_key=None)

    async def submit(self, submission: IssuanceSubmission) -> IssuanceAnswer:
        return await self._client.call(
            PATH_ISSUANCES, submission, IssuanceAnswer, idempotency_key=submission.request.transaction_id
        )

    async def complete(self, report: CompletionReport) -> CompletionAnswer:
        return await self._client.call(
            PATH_COMPLETIONS, report, CompletionAnswer, idempotency_key=report.transaction_id
        )

    async def history(self, submission: HistorySubmission) -> HistoryAnswer:
        return await self._client.call(
            PATH_HISTORY, submission, HistoryAnswer, idempotency_key=submission.request.transaction_id
        )


@asynccontextmanager
async def open_hq_client(dep: Deployment, *, instance: str, hq_url: str | None = None) -> AsyncIterator[HqClient]:
    """A client for the kiosk INSTANCE to its chain's HQ (at HQ_URL instead of the configured address, if
    given); the mTLS session is closed on exit. Call it inside the running event loop."""
    chain, _ = find_kiosk(dep, instance)
    identity = load_service_identity(dep, instance=instance, segment_id=f"store:{chain.id}")
    async with client_session(identity, expected_role=Role.STOREHQ) as session:
        client = ServiceClient(session=session, base_url=hq_url or chain.hq.base_url, expected_role=Role.STOREHQ)
        yield HqClient(client=client)
