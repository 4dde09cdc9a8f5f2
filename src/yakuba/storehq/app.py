"""The store HQ's ASGI app: built from the deployment, its billing store and its line to the center."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from yakuba.clock import Clock, SystemClock
from yakuba.config import ChainConfig, Deployment, Role
from yakuba.database import make_engine
from yakuba.errors import ConfigError
from yakuba.pki import load_service_identity
from yakuba.storehq._center import CenterClient
from yakuba.storehq._challenges import ChallengeCoalescer
from yakuba.storehq._reporter import CompletionReporter
from yakuba.storehq.api import build_router
from yakuba.storehq.service import StoreHq
from yakuba.storehq.store import BillingStore
from yakuba.wire import ServiceClient, build_app, client_session

__all__ = ["UPSTREAM_SEGMENT", "create_app", "listen_segment"]

UPSTREAM_SEGMENT = "dedicated"
"""The HQ reaches the center over the dedicated line."""


def _chain_of(dep: Deployment, instance: str) -> ChainConfig:
    for chain in dep.chains:
        if chain.hq.instance == instance:
            return chain
    raise ConfigError(
        f"{instance} is not the HQ of any chain in this deployment",
        ja=f"{instance} はこのデプロイメントのどのチェーンの本部でもありません",
    )


def listen_segment(dep: Deployment, instance: str) -> str:
    """The store network of the HQ's chain: its server trusts only that chain's kiosks' CA."""
    return f"store:{_chain_of(dep, instance).id}"


def create_app(dep: Deployment, *, instance: str, clock: Clock | None = None, center_url: str | None = None) -> FastAPI:
    """The HQ INSTANCE's app. Its billing store (migrated) and its mTLS session to the center are opened in
    the lifespan and closed on shutdown; the completion reporter runs between the two (started once both are
    up, stopped before the session closes). CENTER_URL replaces the configured center address (tests, a load
    balancer in front of several centers)."""
    chain = _chain_of(dep, instance)
    time = clock or SystemClock()
    upstream = center_url or dep.center.base_url
    database_url = dep.database_url(chain.hq.database)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(database_url)
        try:
            ledger = await asyncio.to_thread(BillingStore.open, engine=engine)
            identity = load_service_identity(dep, instance=instance, segment_id=UPSTREAM_SEGMENT)
            async with client_session(identity, expected_role=Role.CENTER) as session:
                client = ServiceClient(session=session, base_url=upstream, expected_role=Role.CENTER)
                center = CenterClient(client=client)
                reporter = CompletionReporter(ledger=ledger, center=center, clock=time)
                challenges = ChallengeCoalescer(center=center)
                app.state.hq = StoreHq.from_config(
                    dep,
                    instance=instance,
                    ledger=ledger,
                    center=center,
                    challenges=challenges,
                    outbox=reporter,
                    clock=time,
                )
                app.state.billing = ledger
                app.state.reporter = reporter
                app.state.challenges = challenges
                reporter.start()
                try:
                    yield
                finally:
                    await challenges.aclose()
                    await reporter.stop()
        finally:
            engine.dispose()

    return build_app(title=f"yakuba store HQ {instance}", routers=[build_router(instance=instance)], lifespan=lifespan)
