"""Fixtures for the center: a sample deployment with its PKI, and the center on real mTLS between the real JPKI
status service (jlis) and stand-in forwarders (lgwan), called by the midori HQ's client (dedicated)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from yakuba import jpki
from yakuba.center import Catalogue, CenterRuntime, create_app, listen_segment
from yakuba.clock import FixedClock
from yakuba.config import Deployment, Role, write_sample
from yakuba.pki import init_pki, load_service_identity
from yakuba.pki.card import CardInfo, enrol_card
from yakuba.wire import Server, ServiceClient, client_session

from .center_support import HQ, NISHITOKYO, PIN, Kiosk, Seen, forwarder_app, new_clock, with_addresses


@pytest.fixture(scope="session")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    """The sample deployment with every CA and service certificate; tests may add cards and revocations."""
    dep = write_sample(tmp_path_factory.mktemp("center") / "deployment")
    init_pki(dep)
    return dep


@pytest.fixture
def enrol(deployment: Deployment, tmp_path: Path) -> Callable[..., CardInfo]:
    counter = iter(range(1000))

    def make(city_code: str = NISHITOKYO) -> CardInfo:
        return enrol_card(deployment, city_code=city_code, pin=PIN, path=tmp_path / f"card-{next(counter)}.card")

    return make


@pytest.fixture
def card(enrol: Callable[..., CardInfo]) -> CardInfo:
    return enrol()


@dataclass
class Network:
    dep: Deployment
    clock: FixedClock
    center: Server
    runtime: CenterRuntime
    kiosk: Kiosk
    forwarders: dict[str, Seen]
    forwarder_servers: dict[str, Server]
    jpki: Server

    @property
    def center_db(self) -> Path:
        return Path(self.dep.database_url(self.dep.center.database).removeprefix("sqlite:///"))

    hq_session: aiohttp.ClientSession
    """The midori HQ's mTLS session to the center, for raw requests."""

    @contextlib.asynccontextmanager
    async def hq_client(self, instance: str) -> AsyncIterator[ServiceClient]:
        async with _hq_session(self.dep, instance) as session:
            yield ServiceClient(session=session, base_url=self.center.base_url, expected_role=Role.CENTER)


def _hq_session(dep: Deployment, instance: str) -> aiohttp.ClientSession:
    identity = load_service_identity(dep, instance=instance, segment_id="dedicated")
    return client_session(identity, expected_role=Role.CENTER)


@contextlib.asynccontextmanager
async def run_network(
    base: Deployment, folder: Path, *, catalogue: Catalogue | None = None, clock: FixedClock | None = None
) -> AsyncIterator[Network]:
    """Start the JPKI, one stand-in forwarder per city and the center, each on a free port."""
    clock = clock or new_clock()
    async with contextlib.AsyncExitStack() as stack:
        jpki_identity = load_service_identity(base, instance=base.jpki.instance, segment_id="jlis")
        jpki_base = base.model_copy(
            update={"jpki": base.jpki.model_copy(update={"database": f"sqlite:///{folder}/jpki.sqlite3"})}
        )
        jpki_server = await stack.enter_async_context(
            Server(app=jpki.create_app(jpki_base, instance=base.jpki.instance), identity=jpki_identity)
        )
        seen: dict[str, Seen] = {}
        servers: dict[str, Server] = {}
        for city in base.cities:
            seen[city.code] = Seen(city=city.code)
            identity = load_service_identity(base, instance=city.forwarder.instance, segment_id="lgwan")
            servers[city.code] = await stack.enter_async_context(
                Server(app=forwarder_app(seen[city.code]), identity=identity)
            )
        dep = with_addresses(
            base,
            jpki_port=jpki_server.port,
            forwarder_ports={code: server.port for code, server in servers.items()},
            center_db=f"sqlite:///{folder}/center.sqlite3",
            jpki_db=f"sqlite:///{folder}/jpki.sqlite3",
        )
        instance = dep.center.instance
        app = create_app(dep, instance=instance, clock=clock, catalogue=catalogue)
        identity = load_service_identity(dep, instance=instance, segment_id=listen_segment(dep, instance))
        center = await stack.enter_async_context(Server(app=app, identity=identity))
        session = await stack.enter_async_context(_hq_session(dep, HQ))
        hq = ServiceClient(session=session, base_url=center.base_url, expected_role=Role.CENTER)
        runtime: CenterRuntime = app.state.center
        await runtime.revocation.refresh()
        yield Network(
            dep=dep,
            clock=clock,
            center=center,
            runtime=runtime,
            kiosk=Kiosk(dep=dep, hq=hq, clock=clock),
            forwarders=seen,
            forwarder_servers=servers,
            jpki=jpki_server,
            hq_session=session,
        )


@pytest.fixture
async def net(deployment: Deployment, tmp_path: Path) -> AsyncIterator[Network]:
    async with run_network(deployment, tmp_path) as network:
        yield network
