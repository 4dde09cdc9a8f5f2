"""The issuance center's routes and schemas (/v1, callers: the store HQs over the dedicated line)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Header
from pydantic import BaseModel, ConfigDict

from yakuba.center.service import CenterService
from yakuba.config import Role
from yakuba.errors import ValidationError
from yakuba.pki import PeerIdentity
from yakuba.wire import IDEMPOTENCY_KEY_HEADER, allow
from yakuba.wire.messages import (
    PATH_CHALLENGE_BATCHES,
    PATH_CHALLENGES,
    PATH_COMPLETION_BATCHES,
    PATH_HISTORY,
    PATH_ISSUANCES,
    ChallengeAnswer,
    ChallengeAsk,
    ChallengeBatchAnswer,
    ChallengeBatchAsk,
    CompletionBatch,
    CompletionBatchAnswer,
    HistoryAnswer,
    RelayedIssuanceAnswer,
    TaggedHistorySubmission,
    TaggedSubmission,
)

__all__ = ["PATH_HEALTH", "HealthAnswer", "build_router"]

PATH_HEALTH = "/v1/health"

StoreHq = Annotated[PeerIdentity, allow(Role.STOREHQ)]
IdempotencyKey = Annotated[str | None, Header(alias=IDEMPOTENCY_KEY_HEADER)]


class HealthAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    status: str
    role: str
    instance: str


def build_router(service: Callable[[], CenterService], *, instance: str) -> APIRouter:
    """The center's routes; SERVICE gives the running service (built in the app's lifespan)."""
    router = APIRouter()

    @router.get(PATH_HEALTH)
    async def health(_peer: StoreHq) -> HealthAnswer:
        return HealthAnswer(status="ok", role=Role.CENTER.value, instance=instance)

    @router.post(PATH_CHALLENGES)
    async def challenges(peer: StoreHq, body: ChallengeAsk) -> ChallengeAnswer:
        return await service().issue_challenge(caller=peer.instance, ask=body)

    @router.post(PATH_CHALLENGE_BATCHES)
    async def challenge_batches(peer: StoreHq, body: ChallengeBatchAsk) -> ChallengeBatchAnswer:
        """Challenges for several kiosks of the calling HQ at once (its kiosks' asks, coalesced).

        1. The caller is a store HQ (its client certificate; `allow(Role.STOREHQ)`).
        2. The body is 1 to MAX_CHALLENGE_BATCH well-formed kiosk ids (the schema; 400 otherwise).
        3. The service refuses the whole ask if one kiosk is not the caller's, else issues one challenge per
           entry in one transaction (`CenterService.issue_challenges`). No idempotency key: a lost answer's
           challenges just expire unused, and the kiosks ask again.
        """
        return await service().issue_challenges(caller=peer.instance, ask=body)

    @router.post(PATH_ISSUANCES)
    async def issuances(peer: StoreHq, body: TaggedSubmission, key: IdempotencyKey = None) -> RelayedIssuanceAnswer:
        _check_key(key, body.request.transaction_id)
        return await service().submit(caller=peer.instance, submission=body)

    @router.post(PATH_COMPLETION_BATCHES)
    async def completion_batches(
        peer: StoreHq, body: CompletionBatch, key: IdempotencyKey = None
    ) -> CompletionBatchAnswer:
        _check_key(key, body.batch_id, what="batch id")
        return await service().complete_batch(caller=peer.instance, batch=body)

    @router.post(PATH_HISTORY)
    async def history(peer: StoreHq, body: TaggedHistorySubmission, key: IdempotencyKey = None) -> HistoryAnswer:
        _check_key(key, body.request.transaction_id)
        return await service().history(caller=peer.instance, submission=body)

    return router


_KEY_NAMES_JA = {"transaction id": "取引番号", "batch id": "バッチ番号"}


def _check_key(
    key: str | None, expected: str, *, what: Literal["transaction id", "batch id"] = "transaction id"
) -> None:
    """Every hop sends Idempotency-Key: <transaction id> (<batch id> for a batch of completions); anything else
    is a caller bug to surface, not guess."""
    if key != expected:
        raise ValidationError(
            f"the {IDEMPOTENCY_KEY_HEADER} header must be the {what}",
            ja=f"要求の識別子が{_KEY_NAMES_JA[what]}と一致しません。",
        )
