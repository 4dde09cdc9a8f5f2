"""The issuer's routes: issuances, batches of completions and residents' histories from the city's forwarder,
status, health."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Request
from starlette.concurrency import run_in_threadpool

from yakuba.config import Role
from yakuba.errors import ConfigError, ValidationError
from yakuba.issuer.service import IssuerService
from yakuba.pki import PeerIdentity
from yakuba.wire import allow
from yakuba.wire.messages import (
    PATH_COMPLETION_BATCHES,
    PATH_HISTORY,
    PATH_ISSUANCES,
    CompletionBatch,
    CompletionBatchAnswer,
    HistoryAnswer,
    IssuanceAnswer,
    RoutedSubmission,
    TaggedHistorySubmission,
)

__all__ = ["PATH_DOCUMENTS", "PATH_HEALTH", "build_router"]

PATH_DOCUMENTS = "/v1/documents/{serial}"
PATH_HEALTH = "/v1/health"

_SERIAL = r"^[0-9A-Z]{4}-[0-9]{8}$"

Caller = Annotated[PeerIdentity, allow(Role.FORWARDER)]


async def _service(request: Request) -> IssuerService:
    # async: FastAPI runs a plain-def dependency in a worker thread, a hop per request for an attribute read.
    service = getattr(request.app.state, "service", None)
    if not isinstance(service, IssuerService):
        raise ConfigError("the issuer service is not started")
    return service


Service = Annotated[IssuerService, Depends(_service)]


_KEY_NAMES_JA = {"transaction id": "取引番号", "batch id": "バッチ番号"}


def _check_key(
    key: str | None, expected: str, *, what: Literal["transaction id", "batch id"] = "transaction id"
) -> None:
    """Every hop forwards Idempotency-Key: <transaction id> (<batch id> for a batch of completions;
    yakuba.wire.messages); a different key is a bug in a relay, and guessing which of the two was meant could
    answer one transaction with another's document."""
    if key != expected:
        raise ValidationError(
            f"the Idempotency-Key header must be present and equal the {what}",
            ja=f"Idempotency-Key ヘッダーが{_KEY_NAMES_JA[what]}と一致しません",
        )


def build_router() -> APIRouter:
    """The issuer's routes; the service is the app's `state.service`, set in its lifespan."""
    router = APIRouter()

    # The service reads the registry and renders synchronously: each call goes to the worker threads
    # (run_in_threadpool) and the event loop stays free for other connections. The routes themselves are
    # async, so parsing, the dependencies and the answer's serialisation cost no further thread hops.
    @router.post(PATH_ISSUANCES)
    async def issue(
        body: RoutedSubmission,
        _peer: Caller,
        service: Service,
        idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
    ) -> dict[str, Any]:
        _check_key(idempotency_key, body.request.transaction_id)
        answer: IssuanceAnswer = await run_in_threadpool(service.issue, body)
        return answer.model_dump(mode="json")

    @router.post(PATH_COMPLETION_BATCHES)
    async def complete_batch(
        body: CompletionBatch,
        _peer: Caller,
        service: Service,
        idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
    ) -> dict[str, Any]:
        _check_key(idempotency_key, body.batch_id, what="batch id")
        answer: CompletionBatchAnswer = await run_in_threadpool(service.complete_batch, body)
        return answer.model_dump(mode="json")

    @router.post(PATH_HISTORY)
    async def history(
        body: TaggedHistorySubmission,
        _peer: Caller,
        service: Service,
        idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
    ) -> dict[str, Any]:
        _check_key(idempotency_key, body.request.transaction_id)
        answer: HistoryAnswer = await run_in_threadpool(service.history, body)
        return answer.model_dump(mode="json")

    @router.get(PATH_DOCUMENTS)
    async def document(
        serial: Annotated[str, Path(pattern=_SERIAL)], _peer: Caller, service: Service
    ) -> dict[str, str | bool]:
        status = await run_in_threadpool(service.document_status, serial)
        return status.answer()

    @router.get(PATH_HEALTH)
    async def health(_peer: Caller, service: Service) -> dict[str, str]:
        return {"status": "ok", "role": Role.ISSUER.value, "instance": service.issuer_id}

    return router
