"""Waiting for the store HQs' outboxes: until every closed billing line has reached the center (runs, tests)."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from pathlib import Path

from sqlalchemy import Engine

from yakuba.config import Deployment
from yakuba.database import make_engine
from yakuba.storehq.store import BillingStore

__all__ = ["REPORT_POLL_S", "count_unreported", "wait_until_reported"]

REPORT_POLL_S = 0.1
"""How often the ledgers are read while waiting: a report normally goes out within milliseconds."""


def _engines(dep: Deployment, chains: Collection[str] | None) -> list[Engine]:
    """An engine per HQ database of DEP (of CHAINS only, when given). A SQLite file that does not exist yet
    is skipped rather than created: that HQ has never run, so it has nothing to report."""
    engines = []
    for chain in dep.chains:
        if chains is not None and chain.id not in chains:
            continue
        engine = make_engine(dep.database_url(chain.hq.database))
        database = engine.url.database
        if engine.dialect.name == "sqlite" and database and not Path(database).exists():
            engine.dispose()
            continue
        engines.append(engine)
    return engines


def _count(engines: list[Engine]) -> int:
    return sum(BillingStore(engine=engine).count_unreported() for engine in engines)


def count_unreported(dep: Deployment, *, chains: Collection[str] | None = None) -> int:
    """Closed lines not yet answered by the center, over every HQ of DEP (or of CHAINS). Lines the center
    refused for good are not counted: they wait for an operator, not for the reporter."""
    engines = _engines(dep, chains)
    try:
        return _count(engines)
    finally:
        for engine in engines:
            engine.dispose()


async def wait_until_reported(
    dep: Deployment, *, timeout_s: float, chains: Collection[str] | None = None, poll_s: float = REPORT_POLL_S
) -> int:
    """Wait until every HQ of DEP (or of CHAINS) has no closed line left for the center, at most TIMEOUT_S;
    the lines still waiting then (0: all delivered). The HQs must be running: their reporters send the lines;
    this only reads the ledgers, in a worker thread."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    engines = await asyncio.to_thread(_engines, dep, chains)
    try:
        while True:
            left = await asyncio.to_thread(_count, engines)
            if left == 0 or loop.time() >= deadline:
                return left
            await asyncio.sleep(poll_s)
    finally:
        for engine in engines:
            engine.dispose()
