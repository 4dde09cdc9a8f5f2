"""The whole issuance chain on loopback for hostile-input tests: every role's real app behind real mTLS, a town.

The network runs in a thread with its own event loop, so Hypothesis and schemathesis drive it with plain
blocking requests, each over the mTLS identity of a legitimate caller on the service's segment.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import sqlite3
import ssl
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter

from yakuba.clock import FixedClock, SystemClock
from yakuba.config import SAMPLE_PORTS, Deployment, Role, write_sample
from yakuba.network import LocalNetwork
from yakuba.network.ports import free_port_block
from yakuba.network.sample_town import SampleTown, next_open_weekday
from yakuba.pki import init_pki, load_service_identity
from yakuba.wire._tls import client_ssl_context

TOWN_RESIDENTS = 150

IGNORED_TABLES = frozenset({"challenges", "status_queries", "forwarder_counters"})
"""Counters and tables that change without a request of the test, not records of a transaction: challenges
(handed out on a 200, purged when expired), the JPKI's daily count of status queries (the center refreshes its
CRL in the background), and the forwarder's per-day counts of outcomes, refusal codes included (its deliberate
metrics: counts only, nothing of the request)."""


class ContextAdapter(HTTPAdapter):
    """requests over the same TLS context the roles' own clients use (the segment CA, the caller's certificate)."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self._context = context
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self._context
        super().init_poolmanager(*args, **kwargs)


@dataclass
class FuzzChain:
    dep: Deployment
    clock: FixedClock
    town: SampleTown
    loop: asyncio.AbstractEventLoop

    def session(self, caller: str, segment: str, server_role: Role) -> requests.Session:
        """A blocking HTTP session presenting CALLER's certificate on SEGMENT, trusting only its CA and a server
        of SERVER_ROLE: the TLS context the roles' own clients use."""
        identity = load_service_identity(self.dep, instance=caller, segment_id=segment)
        context = client_ssl_context(identity, expected_role=server_role)
        session = requests.Session()
        session.mount("https://", ContextAdapter(context))
        return session

    def state(self) -> dict[str, str]:
        """A digest of every table of every database of the deployment (but IGNORED_TABLES)."""
        digests: dict[str, str] = {}
        for path in sorted(self.dep.state_dir.rglob("*.sqlite3")):
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
            try:
                names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
                for name in names:
                    if name in IGNORED_TABLES:
                        continue
                    rows = conn.execute(f'SELECT * FROM "{name}"').fetchall()  # noqa: S608 - names from the schema
                    digests[f"{path.name}:{name}"] = hashlib.sha256(repr(sorted(map(repr, rows))).encode()).hexdigest()
            finally:
                conn.close()
        return digests


@pytest.fixture(scope="package")
def fuzz_chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzChain]:
    dep = write_sample(tmp_path_factory.mktemp("fuzz") / "deployment", base_port=free_port_block(SAMPLE_PORTS))
    init_pki(dep)
    clock = FixedClock(next_open_weekday(SystemClock().now()))
    town = SampleTown.create(dep, clock=clock, residents=TOWN_RESIDENTS, seed=2016)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fuzz-network", daemon=True)
    thread.start()
    network = LocalNetwork(dep=dep, clock=clock)
    asyncio.run_coroutine_threadsafe(network.start(), loop).result(timeout=180)
    try:
        yield FuzzChain(dep=dep, clock=clock, town=town, loop=loop)
    finally:
        asyncio.run_coroutine_threadsafe(network.stop(), loop).result(timeout=60)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        loop.close()
        # The fuzzing clients (requests/urllib3) leave sockets of refused or cut connections to the garbage
        # collector; collect them with the package, not as a ResourceWarning in whichever test runs next.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()


def card_path(chain: FuzzChain) -> Path:
    return chain.town.cards[0].path
