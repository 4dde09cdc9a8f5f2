"""The store HQ's routes for its kiosks: health, challenges, issuances, completions and histories (`/v1/...`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request
from pydantic import BaseModel, ConfigDict

from yakuba.config import Role
from yakuba.errors import ConfigError
from yakuba.pki import PeerIdentity
from yakuba.storehq.service import StoreHq
from yakuba.wire import IDEMPOTENCY_KEY_HEADER, allow
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
    IssuanceSubmission,
    RelayedIssuanceAnswer,
)

__all__ = ["Health", "build_router"]

Kiosk = Annotated[PeerIdentity, allow(Role.KIOSK)]
IdempotencyKey = Annotated[str | None, Header(alias=IDEMPOTENCY_KEY_HEADER)]


class Health(BaseModel):
    """GET /v1/health."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    status: str
    role: str
    instance: str


def _hq(request: Request) -> StoreHq:
    hq = getattr(request.app.state, "hq", None)
    if not isinstance(hq, StoreHq):
        raise ConfigError("the store HQ is not started")
    return hq


def build_router(*, instance: str) -> APIRouter:
    """The HQ's routes; the gateway itself is on ``app.state.hq`` once the lifespan has started it."""
    router = APIRouter()

    @router.get("/v1/health")
    async def health(peer: Kiosk) -> Health:
        return Health(status="ok", role=Role.STOREHQ.value, instance=instance)

    @router.post(PATH_CHALLENGES)
    async def challenges(request: Request, peer: Kiosk) -> ChallengeAnswer:
        """A one-time challenge for the calling kiosk (empty body: the kiosk is who its certificate says)."""
        return await _hq(request).relay_challenge(caller=peer.instance)

    @router.post(PATH_ISSUANCES)
    async def issuances(
        request: Request, body: IssuanceSubmission, peer: Kiosk, idempotency_key: IdempotencyKey = None
    ) -> RelayedIssuanceAnswer:
        """The kiosk's signed request, tagged with our chain and relayed; the sealed answer comes back (the
        envelope as the issuer's base64 text: the kiosk decodes it, reading the answer as an IssuanceAnswer)."""
        return await _hq(request).relay_issuance(body, caller=peer.instance, idempotency_key=idempotency_key)

    @router.post(PATH_COMPLETIONS)
    async def completions(
        request: Request, body: CompletionReport, peer: Kiosk, idempotency_key: IdempotencyKey = None
    ) -> CompletionAnswer:
        """How the kiosk's transaction ended; closes our billing line and is relayed."""
        return await _hq(request).relay_completion(body, caller=peer.instance, idempotency_key=idempotency_key)

    @router.post(PATH_HISTORY)
    async def history(
        request: Request, body: HistorySubmission, peer: Kiosk, idempotency_key: IdempotencyKey = None
    ) -> HistoryAnswer:
        """A resident's signed request for their own issuance history, tagged and relayed; sealed envelopes back."""
        return await _hq(request).relay_history(body, caller=peer.instance, idempotency_key=idempotency_key)

    return router
