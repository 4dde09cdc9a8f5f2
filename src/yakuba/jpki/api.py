"""The JPKI status service's routes and schemas (/v1, callers: the center)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from yakuba.config import Role
from yakuba.jpki.service import MAX_STATUS_BATCH, CardStatus, JpkiService
from yakuba.pki import PeerIdentity
from yakuba.wire import allow
from yakuba.wire.messages import B64

__all__ = ["PATH_CRL", "PATH_STATUS", "CrlAnswer", "HealthAnswer", "StatusAnswer", "StatusAsk", "build_router"]

PATH_CRL = "/v1/crl"
PATH_STATUS = "/v1/status"

MAX_SERIAL_CHARS = 32
"""A card serial is 16 hex digits; room for stray spaces, and anything longer is refused by the schema."""

Center = Annotated[PeerIdentity, allow(Role.CENTER)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HealthAnswer(_Body):
    status: str
    role: str
    instance: str


class CrlAnswer(_Body):
    """The current card CRL; ``crl`` (DER) is left out when the caller said it holds this number already."""

    number: int
    this_update: str
    next_update: str | None
    unchanged: bool
    crl: B64 | None = None


class StatusAsk(_Body):
    serials: list[Annotated[str, Field(max_length=MAX_SERIAL_CHARS)]] = Field(max_length=MAX_STATUS_BATCH)


class StatusAnswer(_Body):
    """Each serial (upper case) with its status, as of the CRL numbered ``crl_number``."""

    statuses: dict[str, CardStatus]
    crl_number: int
    as_of: str


def build_router(service: JpkiService, *, instance: str) -> APIRouter:
    """The routes, bound to SERVICE; handlers are plain functions (run in the thread pool: files and DB)."""
    router = APIRouter(prefix="/v1")

    @router.get("/health")
    def health(_peer: Center) -> HealthAnswer:
        return HealthAnswer(status="ok", role=Role.JPKI.value, instance=instance)

    @router.get("/crl")
    def crl(_peer: Center, known: Annotated[int | None, Query(ge=0)] = None) -> CrlAnswer:
        snapshot, unchanged = service.crl(known_number=known)
        return CrlAnswer(
            number=snapshot.number,
            this_update=snapshot.this_update.isoformat(),
            next_update=snapshot.next_update.isoformat() if snapshot.next_update else None,
            unchanged=unchanged,
            crl=None if unchanged else snapshot.der,
        )

    @router.post("/status")
    def status(_peer: Center, body: StatusAsk) -> StatusAnswer:
        statuses, snapshot = service.status(body.serials)
        return StatusAnswer(statuses=statuses, crl_number=snapshot.number, as_of=snapshot.this_update.isoformat())

    return router
