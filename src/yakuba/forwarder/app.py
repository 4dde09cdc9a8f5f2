"""Building the forwarder's ASGI app from the deployment: its counters, and one mTLS session to its city's issuers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from yakuba.clock import Clock, SystemClock
from yakuba.config import CityConfig, Deployment, Role
from yakuba.errors import ConfigError
from yakuba.forwarder.api import build_router
from yakuba.forwarder.issuer_link import ServiceIssuerLink
from yakuba.forwarder.service import ForwarderService, IssuerLink
from yakuba.forwarder.store import CounterStore
from yakuba.pki import load_service_identity
from yakuba.wire import ServiceClient, build_app, client_session

__all__ = ["create_app", "find_city", "listen_segment", "upstream_segment"]


def find_city(dep: Deployment, instance: str) -> CityConfig:
    """The city whose forwarder INSTANCE is, or ConfigError."""
    for city in dep.cities:
        if city.forwarder.instance == instance:
            return city
    raise ConfigError(f"{instance!r} is not a forwarder of this deployment")


def listen_segment(dep: Deployment, instance: str) -> str:
    """The segment whose CA the forwarder's server trusts: LGWAN (its caller is the center)."""
    find_city(dep, instance)
    return "lgwan"


def upstream_segment(dep: Deployment, instance: str) -> str:
    """The segment the forwarder calls its issuers on: its city's backbone."""
    return f"backbone:{find_city(dep, instance).code}"


def create_app(dep: Deployment, *, instance: str, clock: Clock | None = None) -> FastAPI:
    """The forwarder INSTANCE's app; counters and the issuer session are opened in the lifespan and closed
    on shutdown."""
    city = find_city(dep, instance)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        counters = await asyncio.to_thread(CounterStore.from_url, dep.database_url(city.forwarder.database))
        try:
            identity = load_service_identity(dep, instance=instance, segment_id=upstream_segment(dep, instance))
            session = client_session(identity, expected_role=Role.ISSUER)
        except BaseException:
            counters.dispose()
            raise
        try:
            links: dict[str, IssuerLink] = {
                issuer.system: ServiceIssuerLink(
                    client=ServiceClient(session=session, base_url=issuer.base_url, expected_role=Role.ISSUER)
                )
                for issuer in city.issuers
            }
            app.state.instance = instance
            app.state.service = ForwarderService(
                city_code=city.code, links=links, counters=counters, clock=clock or SystemClock()
            )
            yield
        finally:
            app.state.service = None
            await session.close()
            counters.dispose()

    return build_app(title=f"yakuba forwarder {instance}", routers=[build_router()], lifespan=lifespan)
