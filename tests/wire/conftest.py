"""Fixtures for the wire tests: a sample deployment with its PKI, certificates made to order, a test app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from yakuba.config import Deployment, write_sample
from yakuba.pki import ServiceIdentity, init_pki, load_service_identity
from yakuba.wire import Server

from .wire_support import HQ, STORE, CertFactory, Hits, make_app


@pytest.fixture(scope="session")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    """The sample deployment with every CA and service certificate (shared; tests must not re-issue in it)."""
    dep = write_sample(tmp_path_factory.mktemp("wire") / "deployment")
    init_pki(dep)
    return dep


@pytest.fixture(scope="session")
def identity(deployment: Deployment) -> Callable[[str, str], ServiceIdentity]:
    def load(instance: str, segment_id: str = STORE) -> ServiceIdentity:
        return load_service_identity(deployment, instance=instance, segment_id=segment_id)

    return load


@pytest.fixture
def certs(deployment: Deployment, tmp_path: Path) -> CertFactory:
    return CertFactory(deployment, tmp_path)


@pytest.fixture
def hits() -> Hits:
    return Hits()


@pytest.fixture
async def hq_server(identity: Callable[..., ServiceIdentity], hits: Hits) -> AsyncIterator[Server]:
    """The store HQ of store:midori, serving the test app in this event loop."""
    async with Server(app=make_app(hits), identity=identity(HQ)) as server:
        yield server
