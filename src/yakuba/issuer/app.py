"""Building the issuer's ASGI app from the deployment: its log, the registry, the document press, the card trust."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from yakuba.clock import Clock, SystemClock
from yakuba.config import CityConfig, Deployment, IssuerConfig
from yakuba.documents import DocumentSigner, RenderEngine
from yakuba.errors import ConfigError
from yakuba.issuer.api import build_router
from yakuba.issuer.person_hash import PersonHasher
from yakuba.issuer.ports import DocumentPress
from yakuba.issuer.service import IssuerService
from yakuba.issuer.store import IssuanceLogStore, RegistryReader
from yakuba.issuer.trust import ReloadingCardTrust
from yakuba.registry import RegistryDatabase
from yakuba.wire import build_app

__all__ = ["IssuerParts", "build_service", "create_app", "find_issuer", "listen_segment"]


def find_issuer(dep: Deployment, instance: str) -> tuple[CityConfig, IssuerConfig]:
    """The city and issuer configuration of INSTANCE, or ConfigError."""
    for city in dep.cities:
        for issuer in city.issuers:
            if issuer.instance == instance:
                return city, issuer
    raise ConfigError(f"{instance!r} is not an issuer of this deployment")


def listen_segment(dep: Deployment, instance: str) -> str:
    """The segment whose CA the issuer's server trusts: its city's backbone (callers: the city's forwarder)."""
    city, _issuer = find_issuer(dep, instance)
    return f"backbone:{city.code}"


class IssuerParts:
    """The service and what must be closed with it."""

    def __init__(self, *, service: IssuerService, log: IssuanceLogStore, registry: RegistryReader) -> None:
        self.service = service
        self.log = log
        self.registry = registry

    def close(self) -> None:
        self.log.dispose()
        self.registry.dispose()


def build_service(dep: Deployment, *, instance: str, clock: Clock | None = None) -> IssuerParts:
    """Everything the issuer needs, loaded once per process: the log (migrated), the city's registry, one
    RenderEngine and one DocumentSigner, the card trust and the city's log key."""
    city, issuer = find_issuer(dep, instance)
    log = IssuanceLogStore.from_url(dep.database_url(issuer.database))
    try:
        registry = RegistryReader(db=RegistryDatabase.for_city(dep, city.code))
        service = IssuerService(
            city=city,
            system=issuer.system,
            issuer_id=instance,
            registry=registry,
            log=log,
            trust=ReloadingCardTrust.from_deployment(dep),
            press=DocumentPress(
                engine=RenderEngine.create(), signer=DocumentSigner.from_key_dir(dep.key_dir, city.code)
            ),
            hasher=PersonHasher.from_key_dir(dep.key_dir, city.code),
            clock=clock or SystemClock(),
        )
    except BaseException:
        log.dispose()
        raise
    return IssuerParts(service=service, log=log, registry=registry)


def create_app(dep: Deployment, *, instance: str, clock: Clock | None = None) -> FastAPI:
    """The issuer INSTANCE's app; its state is built in the lifespan (nothing is opened at import or here)."""
    find_issuer(dep, instance)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        parts = await asyncio.to_thread(build_service, dep, instance=instance, clock=clock)
        app.state.service = parts.service
        try:
            yield
        finally:
            app.state.service = None
            parts.close()

    return build_app(title=f"yakuba issuer {instance}", routers=[build_router()], lifespan=lifespan)
