"""The forwarder's routes: issuances, batches of completions and residents' histories from the center, health."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Request

from yakuba.config import Role
from yakuba.errors import ConfigError, ValidationError
from yakuba.forwarder.service import ForwarderService
from yakuba.pki import PeerIdentity
from yakuba.wire import allow
from yakuba.wire.messages import (
    PATH_COMPLETION_BATCHES,
    PATH_HISTORY,
    PATH_ISSUANCES,
    CompletionBatch,
    RoutedSubmission,
    TaggedHistorySubmission,
)

__all__ = ["PATH_HEALTH", "build_router"]

PATH_HEALTH = "/v1/health"

Caller = Annotated[PeerIdentity, allow(Role.CENTER)]


async def _service(request: Request) -> ForwarderService:
    # async: FastAPI runs a plain-def dependency in a worker thread, a hop per request for an attribute read.
    service = getattr(request.app.state, "service", None)
    if not isinstance(service, ForwarderService):
        raise ConfigError("the forwarder service is not started")
    return service


Service = Annotated[ForwarderService, Depends(_service)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key")]


_KEY_NAMES_JA = {"transaction id": "取引番号", "batch id": "バッチ番号"}


def _check_key(
    key: str | None, expected: str, *, what: Literal["transaction id", "batch id"] = "transaction id"
) -> None:
    """The key every hop forwards must be the transaction id (the batch id for a batch of completions;
    yakuba.wire.messages)."""
    if key != expected:
        raise ValidationError(
            f"the Idempotency-Key header must be present and equal the {what}",
            ja=f"Idempotency-Key ヘッダーが{_KEY_NAMES_JA[what]}と一致しません",
        )


def build_router() -> APIRouter:
    """The forwarder's routes; the service is the app's `state.service`, set in its lifespan."""
    router = APIRouter()

    @router.post(PATH_ISSUANCES)
    async def issue(
        body: RoutedSubmission, _peer: Caller, service: Service, idempotency_key: IdempotencyKey = None
    ) -> dict[str, Any]:
        _check_key(idempotency_key, body.request.transaction_id)
        return (await service.forward_issuance(body)).model_dump(mode="json")

    @router.post(PATH_COMPLETION_BATCHES)
    async def complete_batch(
        body: CompletionBatch, _peer: Caller, service: Service, idempotency_key: IdempotencyKey = None
    ) -> dict[str, Any]:
        _check_key(idempotency_key, body.batch_id, what="batch id")
        return (await service.forward_completions(body)).model_dump(mode="json")

    @router.post(PATH_HISTORY)
    async def history(
        body: TaggedHistorySubmission, _peer: Caller, service: Service, idempotency_key: IdempotencyKey = None
    ) -> dict[str, Any]:
        _check_key(idempotency_key, body.request.transaction_id)
        return (await service.forward_history(body)).model_dump(mode="json")

    @router.get(PATH_HEALTH)
    async def health(request: Request, _peer: Caller, service: Service) -> dict[str, str]:
        return {"status": "ok", "role": Role.FORWARDER.value, "instance": request.app.state.instance}

    return router
