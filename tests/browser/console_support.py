"""Driving the city console from browser tests: the console served on the live town's loop, staff accounts,
logging in through the form, and a resident's issuance through the kiosk library."""

from __future__ import annotations

import contextlib
import secrets
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page, expect

from yakuba.console.accounts import StaffRole
from yakuba.console.errors import StaffExistsError
from yakuba.console.server import ConsoleServer
from yakuba.console.service import ConsoleAccess
from yakuba.console.store import SqlConsoleStore
from yakuba.kiosk.service import Choice, run_transaction
from yakuba.kiosk.terminal import open_kiosk
from yakuba.network.sample_town import TownCard
from yakuba.pki.card import VirtualCardReader
from yakuba.storehq import wait_until_reported

from .conftest import LiveTown

CITY = "132292"
KIOSK = "midori-tanashi-1"
PASSWORD = "correct-horse-battery-staple"
ROLES = {"viewer": StaffRole.VIEWER, "operator": StaffRole.OPERATOR, "supervisor": StaffRole.SUPERVISOR}
"""One account per role, each login named after its role."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RunningConsole:
    """The city's console being served for the tests."""

    base_url: str
    ca_path: str


@contextmanager
def running_console(live: LiveTown, *, city: str = CITY) -> Iterator[RunningConsole]:
    """The console of CITY on its configured port, on the town's loop and clock, with one account per role.

    Before a browser sees it, its HTTPS certificate is checked the way a staff PC that trusts the city's
    backbone CA would (Python's ssl with that CA only): the browser contexts below then accept it without
    that CA, which Chromium cannot be given per test."""
    add_accounts(live, city)
    server = ConsoleServer(live.dep, city_code=city, clock=live.clock)
    live.run(server.start())
    try:
        assert server.certificate is not None
        context = ssl.create_default_context(cafile=str(server.certificate.ca_path))
        config = live.dep.city(city).console
        assert config is not None
        with (
            socket.create_connection((config.host, server.port), timeout=10) as raw,
            context.wrap_socket(raw, server_hostname=config.host) as tls,
        ):
            assert tls.version() in ("TLSv1.2", "TLSv1.3")
        yield RunningConsole(base_url=server.base_url, ca_path=str(server.certificate.ca_path))
    finally:
        live.run(server.stop())


def add_accounts(live: LiveTown, city: str) -> None:
    console = live.dep.city(city).console
    assert console is not None
    store = SqlConsoleStore.from_url(live.dep.database_url(console.database))
    try:
        access = ConsoleAccess(store=store, clock=live.clock)
        for login, role in ROLES.items():
            with contextlib.suppress(StaffExistsError):  # a module before this one made them
                access.add_staff(login=login, role=role, password=PASSWORD)
    finally:
        store.dispose()


@contextmanager
def console_page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context for the console (Japanese, desktop-sized): no cookies carried over."""
    context: BrowserContext = browser.new_context(
        locale="ja-JP", viewport={"width": 1366, "height": 900}, ignore_https_errors=True
    )
    context.set_default_timeout(30_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def log_in(page: Page, console: RunningConsole, login: str, password: str = PASSWORD) -> None:
    """Log in through the login form and land on the statistics page."""
    page.goto(console.base_url + "/login")
    page.fill("#login", login)
    page.fill("#password", password)
    page.click("#login-submit")
    expect(page.locator("#staff-login")).to_have_text(login)


async def issue_at_kiosk(live: LiveTown, card: TownCard, kind: str) -> Issued:
    """One resident's whole transaction at a store kiosk through every role (as `yakuba kiosk issue`); the
    resident takes the copies (out of the kiosk's spool, into the deployment's `taken` folder)."""
    reader = VirtualCardReader.open(live.dep, path=card.path)
    async with open_kiosk(live.dep, instance=KIOSK, clock=live.clock) as terminal:
        receipt, taken = await run_transaction(
            terminal,
            reader=reader,
            choice=Choice(basis="residence", city=card.city_code, kind=kind, options={}, copies=1),
            pin=card.pin,
            take_to=live.dep.state_dir / "taken" / receipt_folder(),
        )
    # The HQ answers the kiosk at once; the center's and the issuer's records close from its next batch.
    assert await wait_until_reported(live.dep, timeout_s=30.0) == 0
    return Issued(transaction_id=receipt.transaction_id, charged_yen=receipt.charged_yen, printed=taken)


def suspend_city_as_the_center_does(live: LiveTown, city: str = CITY) -> None:
    """What the center records when a city answers a transaction with another's (yakuba.center.service)."""
    from yakuba.center.ports import CitySuspension
    from yakuba.center.service import ANSWER_MISMATCH
    from yakuba.center.store import SqlSettlementStore
    from yakuba.database import make_engine

    engine = make_engine(live.dep.database_url(live.dep.center.database))
    try:
        SqlSettlementStore(engine=engine).suspend_city(
            CitySuspension(
                city=city, reason=ANSWER_MISMATCH, transaction_id="tx-integrity-check", suspended_at=live.clock.now()
            )
        )
    finally:
        engine.dispose()


@dataclass(frozen=True, slots=True, kw_only=True)
class Issued:
    """A finished transaction: its id, what was charged, and the copies the resident took."""

    transaction_id: str
    charged_yen: int
    printed: tuple[Path, ...]


def receipt_folder() -> str:
    """A fresh folder name per transaction, so taken copies never meet another's."""
    return secrets.token_hex(8)
