"""Building the JPKI status service's ASGI app from the deployment."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from yakuba.clock import Clock, SystemClock
from yakuba.config import Deployment
from yakuba.database import make_engine
from yakuba.errors import ConfigError
from yakuba.jpki.api import build_router
from yakuba.jpki.service import JpkiService
from yakuba.jpki.store import FileCaRecords, SqlQueryLog
from yakuba.wire import build_app

__all__ = ["SEGMENT", "create_app", "listen_segment"]

SEGMENT = "jlis"
"""The J-LIS internal network: the center is the only caller."""


def listen_segment(dep: Deployment, instance: str) -> str:
    """The segment whose CA the JPKI status server trusts."""
    _check_instance(dep, instance)
    return SEGMENT


def create_app(dep: Deployment, *, instance: str, clock: Clock | None = None) -> FastAPI:
    """The JPKI status service of DEP as INSTANCE: CRL and status routes, daily counts in its database."""
    _check_instance(dep, instance)
    engine = make_engine(dep.database_url(dep.jpki.database))
    log = SqlQueryLog(engine=engine)
    records = FileCaRecords(dep=dep)
    service = JpkiService(records=records, log=log, clock=clock or SystemClock())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(log.migrate)
        # Read (and signature-check) the CRL once now: a broken key folder stops start-up, not a request.
        await run_in_threadpool(records.current_crl)
        try:
            yield
        finally:
            engine.dispose()

    app = build_app(title="yakuba JPKI status", routers=[build_router(service, instance=instance)], lifespan=lifespan)
    app.state.jpki = service
    app.state.query_log = log
    return app


def _check_instance(dep: Deployment, instance: str) -> None:
    if instance != dep.jpki.instance:
        raise ConfigError(f"{instance!r} is not the JPKI status instance of this deployment ({dep.jpki.instance})")
