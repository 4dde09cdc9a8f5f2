"""The one-route app the demo serves to show a mutual-TLS hop and its caller policy."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, FastAPI

from yakuba.config import Role
from yakuba.pki import PeerIdentity
from yakuba.wire import allow, build_app

__all__ = ["hello_app"]

router = APIRouter()


@router.post("/v1/hello")
async def hello(peer: Annotated[PeerIdentity, allow(Role.STOREHQ)]) -> dict[str, str]:
    """Say who called, as its client certificate names it; only a store HQ may call."""
    return {"you_are": f"{peer.role.value} {peer.instance}"}


def hello_app() -> FastAPI:
    """A center-like app with one route that only store HQs may call."""
    return build_app(title="demo center", routers=[router])
