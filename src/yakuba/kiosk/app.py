"""The kiosk's ASGI app, built from the deployment: for now its health route on its chain's store network."""

from __future__ import annotations

from fastapi import FastAPI

from yakuba.clock import Clock
from yakuba.config import Deployment
from yakuba.kiosk.api import build_router
from yakuba.kiosk.hq_client import find_kiosk, store_segment
from yakuba.wire import build_app

__all__ = ["create_app", "listen_segment"]


def listen_segment(dep: Deployment, instance: str) -> str:
    """The kiosk's chain's store network: the only one it is on."""
    return store_segment(dep, instance)


def create_app(dep: Deployment, *, instance: str, clock: Clock | None = None) -> FastAPI:
    """The kiosk INSTANCE's app (health only; the resident's screen is a later issue). CLOCK is unused until then."""
    find_kiosk(dep, instance)
    return build_app(title=f"yakuba kiosk {instance}", routers=[build_router(instance=instance)])
