"""Fixtures for the JPKI status service: a sample deployment with its PKI, the service over real mTLS on jlis."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from yakuba.config import Deployment, Role, write_sample
from yakuba.jpki import JpkiClient, create_app, listen_segment
from yakuba.pki import init_pki, load_service_identity
from yakuba.pki.card import CardInfo, enrol_card
from yakuba.wire import Server, client_session

NISHITOKYO = "132292"
PIN = "4321"


@pytest.fixture(scope="session")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    """The sample deployment with every CA and service certificate; tests may add cards and revocations."""
    dep = write_sample(tmp_path_factory.mktemp("jpki") / "deployment")
    init_pki(dep)
    return dep


@pytest.fixture
def enrol(deployment: Deployment, tmp_path: Path) -> Callable[[], CardInfo]:
    counter = iter(range(1000))

    def make() -> CardInfo:
        return enrol_card(deployment, city_code=NISHITOKYO, pin=PIN, path=tmp_path / f"card-{next(counter)}.card")

    return make


@pytest.fixture
def jpki_deployment(deployment: Deployment, tmp_path: Path) -> Deployment:
    """The shared deployment with a database of this test's own for the JPKI."""
    jpki = deployment.jpki.model_copy(update={"database": f"sqlite:///{tmp_path}/jpki.sqlite3"})
    return deployment.model_copy(update={"jpki": jpki})


@dataclass
class Running:
    server: Server
    session: aiohttp.ClientSession
    client: JpkiClient
    dep: Deployment


@pytest.fixture
async def jpki(jpki_deployment: Deployment) -> AsyncIterator[Running]:
    """The JPKI status service on a free loopback port, and the center's mTLS session to it."""
    async with running_jpki(jpki_deployment) as running:
        yield running


@contextlib.asynccontextmanager
async def running_jpki(dep: Deployment) -> AsyncIterator[Running]:
    """DEP's JPKI status service on a free loopback port, and the center's mTLS session to it."""
    instance = dep.jpki.instance
    identity = load_service_identity(dep, instance=instance, segment_id=listen_segment(dep, instance))
    async with Server(app=create_app(dep, instance=instance), identity=identity) as server:
        center = load_service_identity(dep, instance=dep.center.instance, segment_id="jlis")
        async with client_session(center, expected_role=Role.JPKI) as session:
            yield Running(server, session, JpkiClient(session=session, base_url=server.base_url), dep)
