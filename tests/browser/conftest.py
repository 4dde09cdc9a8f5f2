"""Browser tests: Debian's Chromium driven by Playwright, against the product's own pages on a live network.

The browser is the machine's `/usr/bin/chromium` (Debian package `chromium`, installed by `./dev`); the tests
never let Playwright download a browser. Screenshots of every screen go to the test output folder
(`test-output/browser/` in the repository, or `$YAKUBA_TEST_OUTPUT/browser/`).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import threading
from collections.abc import Coroutine, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from yakuba.clock import FixedClock, SystemClock
from yakuba.config import SAMPLE_PORTS, Deployment, write_sample
from yakuba.network import LocalNetwork
from yakuba.network.ports import free_port_block
from yakuba.network.sample_town import SampleTown, next_open_weekday
from yakuba.pki import init_pki

T = TypeVar("T")

TOWN_RESIDENTS = 150
"""Residents per city: every situation the screens need, generated in about a second."""

CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # The machine's network is closed: without these Chromium keeps dialling Google's hosts.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",  # the kiosk's "take your certificate" chime
]


def _chromium() -> str:
    found = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if found is None:
        pytest.fail("Debian's chromium is not installed: run ./dev setup (as root) or apt-get install chromium")
    return found


def output_dir() -> Path:
    """The test output folder for screenshots (kept after the run, ignored by git)."""
    base = Path(os.environ.get("YAKUBA_TEST_OUTPUT", Path(__file__).resolve().parents[2] / "test-output"))
    folder = base / "browser"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One Chromium for the browser tests, closed when they are done.

    Package scope, not session: Playwright's sync API keeps its event loop marked as running in the main
    thread while it is open, and every asyncio test after it would fail with "cannot be called from a running
    event loop".
    """
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context per test (no cookies or storage carried over), Japanese locale, kiosk-sized."""
    context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900}, ignore_https_errors=False)
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@dataclass
class Shots:
    """Writes numbered screenshots of one test into its own folder of the test output."""

    folder: Path
    count: int = 0

    def __call__(self, page: Page, name: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Shots:
    """`shot(page, "pin-pad")` saves a screenshot under test-output/browser/<test name>/."""
    folder = output_dir() / re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return Shots(folder=folder)


@dataclass
class LiveTown:
    """Every role running in a background event loop (real mTLS, real databases), with a generated town.

    Browser tests are synchronous (Playwright's sync API); `run(coro)` runs a coroutine on the network's loop
    and returns its result, so a test can start extra servers or drive a kiosk there.
    """

    dep: Deployment
    clock: FixedClock
    town: SampleTown
    loop: asyncio.AbstractEventLoop
    extra_ports: list[int] = field(default_factory=list)

    def run(self, coro: Coroutine[Any, Any, T], *, timeout: float = 60.0) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return future.result(timeout=timeout)


@pytest.fixture(scope="package")
def live_town(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveTown]:
    """The sample deployment on free ports, its PKI, a town, and LocalNetwork serving it from a thread.

    The clock is fixed inside service hours on the next open weekday, so the tests pass at any hour. A block of
    ports after the deployment's is free for the test's own servers (`extra_ports`).
    """
    base = free_port_block(SAMPLE_PORTS + 10)
    dep = write_sample(tmp_path_factory.mktemp("browser") / "deployment", base_port=base)
    init_pki(dep)
    clock = FixedClock(next_open_weekday(SystemClock().now()))
    town = SampleTown.create(dep, clock=clock, residents=TOWN_RESIDENTS, seed=2016)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="live-town", daemon=True)
    thread.start()
    network = LocalNetwork(dep=dep, clock=clock)
    live = LiveTown(
        dep=dep,
        clock=clock,
        town=town,
        loop=loop,
        extra_ports=list(range(base + SAMPLE_PORTS, base + SAMPLE_PORTS + 10)),
    )
    live.run(network.start())
    try:
        yield live
    finally:
        live.run(network.stop())
        # Anything a test left serving on this loop (a screen or console it did not stop) ends here, so its
        # socket is closed now and not by the garbage collector during some later test (a ResourceWarning).
        live.run(_end_leftover_tasks())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


async def _end_leftover_tasks() -> None:
    current = asyncio.current_task()
    leftover = [task for task in asyncio.all_tasks() if task is not current]
    for task in leftover:
        task.cancel()
    await asyncio.gather(*leftover, return_exceptions=True)
