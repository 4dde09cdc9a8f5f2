"""The whole issuance network on loopback: real services, real mTLS, real databases, a generated town."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from yakuba.clock import FixedClock, SystemClock
from yakuba.config import SAMPLE_PORTS, Deployment, write_sample
from yakuba.network import LocalNetwork
from yakuba.network.ports import free_port_block
from yakuba.network.sample_town import SampleTown, next_open_weekday
from yakuba.pki import init_pki

from .recording_relay import RecordingRelay

TOWN_RESIDENTS = 150
"""Residents per city: enough for every situation the tests need, small enough to generate in a second."""

DELIVERY_TIMEOUT_S = 30.0
"""How long a test waits for the HQs' outboxes to bring the completions to the center and the issuers
(normally milliseconds; a retried batch, seconds)."""


class Chain:
    """The running network with the town, the relays on every link, and a hook on the HQs' answers."""

    def __init__(self, *, dep: Deployment, clock: FixedClock, town: SampleTown, relays: list[RecordingRelay]) -> None:
        self.dep = dep
        self.clock = clock
        self.town = town
        self.relays = relays
        self.answer_hooks: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}

    async def delivered(self) -> None:
        """Wait until every HQ has reported its closed billing lines on: the kiosk is answered when its HQ has
        closed the line, and the center's and the issuers' lines close a moment later, from a batch."""
        from yakuba.storehq import wait_until_reported

        assert await wait_until_reported(self.dep, timeout_s=DELIVERY_TIMEOUT_S) == 0


@pytest.fixture(scope="package")
def town_deployment(tmp_path_factory: pytest.TempPathFactory) -> tuple[Deployment, FixedClock, SampleTown]:
    base = free_port_block(SAMPLE_PORTS * 2)
    dep = write_sample(tmp_path_factory.mktemp("chain") / "deployment", base_port=base)
    init_pki(dep)
    clock = FixedClock(next_open_weekday(SystemClock().now()))
    town = SampleTown.create(dep, clock=clock, residents=TOWN_RESIDENTS, seed=2016)
    return dep, clock, town


def _hooked(app: Any, chain_box: list[Chain], instance: str) -> Any:
    """Middleware on an HQ: lets a test rewrite the issuance answers it passes down (a compromised relay)."""
    import json

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        hook = chain_box[0].answer_hooks.get(instance) if chain_box else None
        if scope["type"] != "http" or scope["path"] != "/v1/issuances" or hook is None:
            await app(scope, receive, send)
            return
        held: list[Any] = []
        body = bytearray()

        async def capture(message: Any) -> None:
            if message["type"] == "http.response.start":
                held.append(message)
            elif message["type"] == "http.response.body":
                body.extend(message.get("body", b""))
                if not message.get("more_body"):
                    start = held[0]
                    data = bytes(body)
                    if start["status"] == 200:
                        data = json.dumps(hook(json.loads(data))).encode()
                    headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
                    headers.append((b"content-length", str(len(data)).encode()))
                    await send({**start, "headers": headers})
                    await send({"type": "http.response.body", "body": data})

        await app(scope, receive, capture)

    return wrapped


@pytest_asyncio.fixture(scope="package", loop_scope="package")
async def chain(town_deployment: tuple[Deployment, FixedClock, SampleTown]) -> AsyncIterator[Chain]:
    """Every role running, each behind a recording relay on its configured port."""
    dep, clock, town = town_deployment
    offset = SAMPLE_PORTS
    listen_ports = {cfg.instance: cfg.port + offset for _, cfg in dep.services()}
    relays = [
        RecordingRelay(name=cfg.instance, listen_port=cfg.port, target_port=cfg.port + offset)
        for role, cfg in dep.services()
        if role.value != "kiosk"
    ]
    box: list[Chain] = []
    hq_instances = [c.hq.instance for c in dep.chains]
    network = LocalNetwork(
        dep=dep,
        clock=clock,
        listen_ports=listen_ports,
        wrap={hq: (lambda app, hq=hq: _hooked(app, box, hq)) for hq in hq_instances},
    )
    for relay in relays:
        await relay.start()
    try:
        async with network:
            box.append(Chain(dep=dep, clock=clock, town=town, relays=relays))
            yield box[0]
    finally:
        for relay in relays:
            await relay.stop()


def state_files(dep: Deployment, *instances: str) -> list[Path]:
    """Every file in the state folder that belongs to INSTANCES (databases and their WAL, logs)."""
    return [
        path
        for path in dep.state_dir.rglob("*")
        if path.is_file() and any(path.name.startswith(instance) for instance in instances)
    ]
