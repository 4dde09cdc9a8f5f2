"""The console tests' town: every role running on a background loop, the city console over real HTTPS."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from yakuba.clock import FixedClock, SystemClock
from yakuba.config import SAMPLE_PORTS, write_sample
from yakuba.console.server import ConsoleServer
from yakuba.network import LocalNetwork
from yakuba.network.ports import free_port_block
from yakuba.network.sample_town import SampleTown, next_open_weekday
from yakuba.pki import init_pki

from .console_support import CITY, Town, add_staff_accounts

RESIDENTS = 120
"""Enough residents for every situation the tests pick, generated in about a second."""


@pytest.fixture(scope="package")
def town(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Town]:
    dep = write_sample(tmp_path_factory.mktemp("console") / "deployment", base_port=free_port_block(SAMPLE_PORTS))
    init_pki(dep)
    clock = FixedClock(next_open_weekday(SystemClock().now()))
    sample = SampleTown.create(dep, clock=clock, residents=RESIDENTS, seed=7)
    add_staff_accounts(dep, clock)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="console-town", daemon=True)
    thread.start()
    live = Town(dep=dep, clock=clock, town=sample, loop=loop)
    network = LocalNetwork(dep=dep, clock=clock)
    live.run(network.start())
    console = ConsoleServer(dep, city_code=CITY, clock=clock)
    try:
        live.run(console.start())
        live.console = console
        yield live
    finally:
        live.run(console.stop())
        live.run(network.stop())
        live.run(_end_leftover_tasks())  # nothing left serving: its socket would be closed by the GC, later
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


async def _end_leftover_tasks() -> None:
    current = asyncio.current_task()
    leftover = [task for task in asyncio.all_tasks() if task is not current]
    for task in leftover:
        task.cancel()
    await asyncio.gather(*leftover, return_exceptions=True)
