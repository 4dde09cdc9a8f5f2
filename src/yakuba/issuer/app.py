"""Building the issuer's ASGI app from the deployment: its log, the registry, the document press, the card trust."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from yakuba.audit import Actor, DeploymentLog, IntegratorThread, load_subject_secret, open_deployment_log
from yakuba.clock import Clock, SystemClock
from yakuba.config import CityConfig, Deployment, IssuerConfig, Role
from yakuba.documents import DocumentSigner, RenderEngine
from yakuba.errors import ConfigError, YakubaError
from yakuba.issuer.api import build_router
from yakuba.issuer.audit_trail import IssuerAudit
from yakuba.issuer.controls_store import SqlServiceControls
from yakuba.issuer.person_hash import PersonHasher
from yakuba.issuer.ports import DocumentPress
from yakuba.issuer.service import IssuerService
from yakuba.issuer.store import IssuanceLogStore, RegistryReader
from yakuba.issuer.trust import ReloadingCardTrust
from yakuba.registry import RegistryDatabase
from yakuba.wire import build_app

__all__ = [
    "SWEEP_EVERY_S",
    "IssuerParts",
    "build_service",
    "create_app",
    "find_issuer",
    "listen_segment",
    "open_audit",
]

_log = logging.getLogger("yakuba.issuer")


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


def open_audit(dep: Deployment, *, instance: str) -> tuple[DeploymentLog, IssuerAudit]:
    """The issuer's audit log (created with its keys on first start), in the issuer's own database so an
    issuance change and its entry commit in one transaction, and the trail that writes and reads it."""
    opened = open_deployment_log(dep, instance, create=True, with_signer=True)
    try:
        audit = IssuerAudit(
            log=opened.log,
            subject_secret=load_subject_secret(key_dir=dep.key_dir, log_name=instance),
            actor=Actor(role=Role.ISSUER.value, instance=instance),
            stores={kiosk.instance: kiosk.location for _chain, kiosk in dep.kiosks()},
        )
    except BaseException:
        opened.log.engine.dispose()
        raise
    return opened, audit


def build_service(dep: Deployment, *, instance: str, audit: IssuerAudit, clock: Clock | None = None) -> IssuerParts:
    """Everything the issuer needs, loaded once per process: the log (migrated), the city's registry, one
    RenderEngine and one DocumentSigner, the card trust and the city's log key; AUDIT is its audit trail
    (`open_audit`, or a stand-in in tests)."""
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
            audit=audit,
            clock=clock or SystemClock(),
            controls=SqlServiceControls(engine=log.engine),
        )
    except BaseException:
        log.dispose()
        raise
    return IssuerParts(service=service, log=log, registry=registry)


SWEEP_EVERY_S = 60.0
"""How often an issuer process marks failed the entries an interrupted process left `issuing` (the first sweep
runs at start-up: a restarted process cleans up after the one it replaces)."""


async def _sweep_interrupted(service: IssuerService) -> None:
    while True:
        try:
            await asyncio.to_thread(service.fail_interrupted)
        except YakubaError as exc:  # the log's database is down: the next sweep tries again
            _log.warning("sweep of interrupted issuances failed (%s)", exc.code)
        await asyncio.sleep(SWEEP_EVERY_S)


def create_app(dep: Deployment, *, instance: str, clock: Clock | None = None) -> FastAPI:
    """The issuer INSTANCE's app; its state is built in the lifespan (nothing is opened at import or here)."""
    find_issuer(dep, instance)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        opened, audit = await asyncio.to_thread(open_audit, dep, instance=instance)
        integrator: IntegratorThread | None = None
        parts: IssuerParts | None = None
        sweeper: asyncio.Task[None] | None = None
        try:
            parts = await asyncio.to_thread(build_service, dep, instance=instance, audit=audit, clock=clock)
            # Signed checkpoints every second for as long as the issuer runs; stopping flushes what is pending.
            integrator = opened.integrator().start()
            app.state.service = parts.service
            sweeper = asyncio.create_task(_sweep_interrupted(parts.service), name=f"{instance} sweep")
            yield
        finally:
            if sweeper is not None:
                sweeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sweeper
            app.state.service = None
            if integrator is not None:
                await asyncio.to_thread(integrator.stop)
            if parts is not None:
                parts.close()
            opened.log.engine.dispose()

    return build_app(title=f"yakuba issuer {instance}", routers=[build_router()], lifespan=lifespan)
