"""The issuer's routes: issuances, batches of completions and residents' histories from the city's forwarder,
status, health."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Request

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


def _service(request: Request) -> IssuerService:
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

    # Plain `def` routes: the service reads the registry and renders synchronously, so FastAPI runs each
    # request in its worker threads and the event loop stays free for other connections.
    @router.post(PATH_ISSUANCES)
    def issue(
        body: RoutedSubmission,
        _peer: Caller,
        service: Service,
        idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
    ) -> dict[str, Any]:
        _check_key(idempotency_key, body.request.transaction_id)
        answer: IssuanceAnswer = service.issue(body)
        return answer.model_dump(mode="json")

    @router.post(PATH_COMPLETION_BATCHES)
    def complete_batch(
        body: CompletionBatch,
        _peer: Caller,
        service: Service,
        idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
    ) -> dict[str, Any]:
        _check_key(idempotency_key, body.batch_id, what="batch id")
        answer: CompletionBatchAnswer = service.complete_batch(body)
        return answer.model_dump(mode="json")

    @router.post(PATH_HISTORY)
    def history(
        body: TaggedHistorySubmission,
        _peer: Caller,
        service: Service,
        idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
    ) -> dict[str, Any]:
        _check_key(idempotency_key, body.request.transaction_id)
        answer: HistoryAnswer = service.history(body)
        return answer.model_dump(mode="json")

    @router.get(PATH_DOCUMENTS)
    def document(
        serial: Annotated[str, Path(pattern=_SERIAL)], _peer: Caller, service: Service
    ) -> dict[str, str | bool]:
        return service.document_status(serial).answer()

    @router.get(PATH_HEALTH)
    async def health(_peer: Caller, service: Service) -> dict[str, str]:
        return {"status": "ok", "role": Role.ISSUER.value, "instance": service.issuer_id}

    return router
