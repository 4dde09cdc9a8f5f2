"""The kiosk's routes: health for its HQ's monitoring (the kiosk screen comes later)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from yakuba.config import Role
from yakuba.pki import PeerIdentity
from yakuba.wire import allow

__all__ = ["Health", "build_router"]


class Health(BaseModel):
    """GET /v1/health."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    status: str
    role: str
    instance: str


def build_router(*, instance: str) -> APIRouter:
    """The kiosk's routes."""
    router = APIRouter()

    @router.get("/v1/health")
    async def health(peer: Annotated[PeerIdentity, allow(Role.STOREHQ)]) -> Health:
        return Health(status="ok", role=Role.KIOSK.value, instance=instance)

    return router
