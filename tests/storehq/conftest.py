"""Fixtures for the store HQ tests: a sample deployment with its PKI, a stand-in center, the HQ over real mTLS."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest

from yakuba.clock import FixedClock
from yakuba.config import Deployment, Role, write_sample
from yakuba.pki import ServiceIdentity, init_pki, load_service_identity
from yakuba.storehq import create_app, listen_segment
from yakuba.wire import Server, ServiceClient, client_session

from .storehq_support import HQ, STORE, StandInCenter, center_app

START = dt.datetime(2025, 11, 26, 1, 30, tzinfo=dt.UTC)
"""10:30 JST on 26 Nov 2025 (令和7年): a business day inside the service hours."""


@pytest.fixture(scope="session")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    """The sample deployment with every CA and service certificate (shared by every test of this folder)."""
    dep = write_sample(tmp_path_factory.mktemp("storehq") / "deployment")
    init_pki(dep)
    return dep


@pytest.fixture(scope="session")
def identity(deployment: Deployment) -> Callable[..., ServiceIdentity]:
    def load(instance: str, segment_id: str = STORE) -> ServiceIdentity:
        return load_service_identity(deployment, instance=instance, segment_id=segment_id)

    return load


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def center() -> StandInCenter:
    return StandInCenter()


@pytest.fixture
async def center_server(center: StandInCenter, identity: Callable[..., ServiceIdentity]) -> AsyncIterator[Server]:
    async with Server(app=center_app(center), identity=identity("center-1", "dedicated")) as server:
        yield server


@pytest.fixture
def hq_database(deployment: Deployment) -> Path:
    """The HQ's SQLite file, removed before the test so every test starts with an empty ledger."""
    path = deployment.state_dir / "midori-hq.sqlite3"
    for stale in deployment.state_dir.glob("midori-hq.sqlite3*"):
        stale.unlink()
    return path


@pytest.fixture
async def hq_server(
    deployment: Deployment,
    center_server: Server,
    clock: FixedClock,
    hq_database: Path,
    identity: Callable[..., ServiceIdentity],
) -> AsyncIterator[Server]:
    app = create_app(deployment, instance=HQ, clock=clock, center_url=center_server.base_url)
    async with Server(app=app, identity=identity(HQ, listen_segment(deployment, HQ))) as server:
        yield server


@pytest.fixture
def kiosk_client(
    hq_server: Server, identity: Callable[..., ServiceIdentity]
) -> Callable[..., AbstractAsyncContextManager[ServiceClient]]:
    """Open an mTLS client to the HQ as a kiosk: ``async with kiosk_client("midori-tanashi-1") as client``."""

    @asynccontextmanager
    async def open_client(
        instance: str, segment_id: str = STORE, loaded: ServiceIdentity | None = None
    ) -> AsyncIterator[ServiceClient]:
        who = loaded or identity(instance, segment_id)
        async with client_session(who, expected_role=Role.STOREHQ) as session:
            yield ServiceClient(session=session, base_url=hq_server.base_url, expected_role=Role.STOREHQ)

    return open_client
