"""Fixtures of the issuer tests: one deployment with its PKI and generated city, both issuers served over mTLS."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Iterator

import pytest

from yakuba.clock import FixedClock
from yakuba.config import write_sample
from yakuba.documents import DocumentTrust
from yakuba.issuer import create_app, listen_segment
from yakuba.pki import init_pki, load_service_identity
from yakuba.registry import RegistryDatabase, generate_city, open_city_registry
from yakuba.wire import Server

from .issuer_support import (
    CITY,
    JUKI,
    KOSEKI,
    NOW,
    PKI_TIME,
    RESIDENTS,
    SEED,
    IssuerCalls,
    World,
    all_people,
    all_registers,
)


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The sample deployment, its PKI, and Nishitokyo generated with RESIDENTS residents as of NOW."""
    folder = tmp_path_factory.mktemp("issuer")
    dep = write_sample(folder / "deployment")
    init_pki(dep, clock=FixedClock(PKI_TIME))
    db = RegistryDatabase.for_city(dep, CITY)
    db.migrate()
    generate_city(
        db, city_code=CITY, residents=RESIDENTS, seed=SEED, as_of=NOW.date(), loaded_at=NOW - dt.timedelta(hours=9)
    )
    people, registers = all_people(db), all_registers(db)
    db.dispose()
    clock = FixedClock(NOW)
    registry = open_city_registry(dep, CITY, clock=clock)
    cards = folder / "cards"
    cards.mkdir()
    yield World(dep=dep, clock=clock, registry=registry, folder=cards, people=people, registers=registers)
    registry.db.dispose()


@pytest.fixture(scope="session")
def servers(world: World) -> Iterator[dict[str, Server]]:
    """Both Nishitokyo issuers, each in a thread of its own, as `yakuba up` runs them."""
    with contextlib.ExitStack() as stack:
        running: dict[str, Server] = {}
        for instance in (JUKI, KOSEKI):
            identity = load_service_identity(
                world.dep, instance=instance, segment_id=listen_segment(world.dep, instance)
            )
            server = Server(app=create_app(world.dep, instance=instance, clock=world.clock), identity=identity)
            running[instance] = stack.enter_context(server.running_in_thread())
        yield running


@pytest.fixture
async def issuer(world: World, servers: dict[str, Server]) -> AsyncIterator[IssuerCalls]:
    calls = IssuerCalls(world.dep, {name: server.base_url for name, server in servers.items()})
    try:
        yield calls
    finally:
        await calls.close()


@pytest.fixture(scope="session")
def document_trust(world: World) -> DocumentTrust:
    return DocumentTrust.from_key_dir(world.dep.key_dir)


@pytest.fixture(autouse=True)
def _clock_at_now(world: World) -> Iterator[None]:
    """Every test starts at NOW; a test that moves the clock cannot leak the move into the next."""
    world.clock.set(NOW)
    yield
    world.clock.set(NOW)
