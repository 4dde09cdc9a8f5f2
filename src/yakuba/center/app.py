"""Building the issuance center's ASGI app from the deployment."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from yakuba.center.api import build_router
from yakuba.center.catalogue import Catalogue
from yakuba.center.revocation import RevocationCache
from yakuba.center.service import CenterService
from yakuba.center.store import SqlSettlementStore
from yakuba.center.upstream import LgwanForwarders
from yakuba.clock import Clock, SystemClock
from yakuba.config import Deployment, Role
from yakuba.database import make_engine
from yakuba.errors import ConfigError, ServiceClosedError, YakubaError
from yakuba.jpki import JpkiClient
from yakuba.pki import CardTrust, load_service_identity
from yakuba.wire import ChallengeStore, build_app, client_session

__all__ = [
    "CHALLENGE_PURGE_INTERVAL",
    "FORWARD_TIMEOUT",
    "JPKI_TIMEOUT",
    "SEGMENT",
    "CenterRuntime",
    "create_app",
    "listen_segment",
]

SEGMENT = "dedicated"
"""The dedicated line from the store HQs: the center's only listening segment."""

FORWARD_TIMEOUT = 15.0
"""Seconds the center waits for a city (forwarder, issuer, live registry reads): below the HQ's own 20 s
(yakuba.wire.client.TOTAL_TIMEOUT), so the center aborts and answers first, and the HQ never gives up on a
transaction the center still counts as in flight."""

JPKI_TIMEOUT = 5.0
"""Seconds for a CRL fetch: off the request path, and the next background refresh comes soon anyway."""

CHALLENGE_PURGE_INTERVAL = 600.0
"""Seconds between deletions of expired challenges: keeps the shared table at about one TTL's worth of rows
(an expired challenge is refused anyway, so how soon it goes does not matter for safety)."""

_log = logging.getLogger("yakuba.center")


class CenterRuntime:
    """What the app's lifespan builds: the service and the CRL cache (for operators and tests)."""

    def __init__(self) -> None:
        self._service: CenterService | None = None
        self._revocation: RevocationCache | None = None

    def started(self, *, service: CenterService, revocation: RevocationCache) -> None:
        self._service, self._revocation = service, revocation

    @property
    def service(self) -> CenterService:
        if self._service is None:
            raise ServiceClosedError("the center is starting or stopping")
        return self._service

    @property
    def revocation(self) -> RevocationCache:
        if self._revocation is None:
            raise ServiceClosedError("the center is starting or stopping")
        return self._revocation

    def stopped(self) -> None:
        self._service = self._revocation = None


def listen_segment(dep: Deployment, instance: str) -> str:
    """The segment whose CA the center's server trusts."""
    _check_instance(dep, instance)
    return SEGMENT


def create_app(
    dep: Deployment, *, instance: str, clock: Clock | None = None, catalogue: Catalogue | None = None
) -> FastAPI:
    """The issuance center of DEP as INSTANCE; CATALOGUE defaults to the sample catalogue of DEP's cities.

    The lifespan migrates its database, opens the J-LIS and LGWAN client sessions, starts the background
    CRL refresh, and undoes all of it on shutdown.
    """
    _check_instance(dep, instance)
    clock = clock or SystemClock()
    engine = make_engine(dep.database_url(dep.center.database))
    store = SqlSettlementStore(engine=engine)
    challenges = ChallengeStore(engine=engine, clock=clock)
    runtime = CenterRuntime()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            stack.callback(engine.dispose)
            await run_in_threadpool(store.migrate)
            await run_in_threadpool(challenges.create_tables)
            anchors = await run_in_threadpool(CardTrust.from_deployment, dep)
            jlis = client_session(
                load_service_identity(dep, instance=instance, segment_id="jlis"),
                expected_role=Role.JPKI,
                total_timeout=JPKI_TIMEOUT,
            )
            stack.push_async_callback(jlis.close)
            lgwan = client_session(
                load_service_identity(dep, instance=instance, segment_id="lgwan"),
                expected_role=Role.FORWARDER,
                total_timeout=FORWARD_TIMEOUT,
            )
            stack.push_async_callback(lgwan.close)
            revocation = RevocationCache(
                anchors=anchors, source=JpkiClient(session=jlis, base_url=dep.jpki.base_url), clock=clock
            )
            service = CenterService.from_deployment(
                dep,
                catalogue=catalogue,
                challenges=challenges,
                trust=revocation,
                forwarders=LgwanForwarders.from_deployment(dep, session=lgwan),
                store=store,
                clock=clock,
            )
            refresher = asyncio.create_task(revocation.run(), name=f"{instance}-crl-refresh")
            stack.push_async_callback(_cancel, refresher)
            purger = asyncio.create_task(_purge_challenges(challenges), name=f"{instance}-challenge-purge")
            stack.push_async_callback(_cancel, purger)
            runtime.started(service=service, revocation=revocation)
            stack.callback(runtime.stopped)
            yield

    app = build_app(
        title="yakuba issuance center",
        routers=[build_router(lambda: runtime.service, instance=instance)],
        lifespan=lifespan,
    )
    app.state.center = runtime
    return app


async def _purge_challenges(challenges: ChallengeStore) -> None:
    while True:
        await asyncio.sleep(CHALLENGE_PURGE_INTERVAL)
        try:
            purged = await run_in_threadpool(challenges.purge_expired)
        except YakubaError as exc:
            _log.warning("purging expired challenges failed: %s", exc.code)
        else:
            _log.debug("purged %d expired challenges", purged)


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _check_instance(dep: Deployment, instance: str) -> None:
    if instance != dep.center.instance:
        raise ConfigError(f"{instance!r} is not the center instance of this deployment ({dep.center.instance})")
