"""Helpers of the console tests: a live town with its console over HTTPS, staff, logins, kiosk issuances."""

from __future__ import annotations

import asyncio
import re
import secrets
import ssl
from collections.abc import Coroutine
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from yakuba.clock import FixedClock
from yakuba.config import Deployment
from yakuba.console.accounts import StaffRole
from yakuba.console.server import ConsoleServer
from yakuba.console.service import ConsoleAccess
from yakuba.console.store import SqlConsoleStore
from yakuba.kiosk.service import Choice, run_transaction
from yakuba.kiosk.terminal import open_kiosk
from yakuba.network.sample_town import SampleTown, TownCard
from yakuba.pki.card import VirtualCardReader
from yakuba.storehq import wait_until_reported

T = TypeVar("T")

CITY = "132292"
KIOSK = "midori-tanashi-1"
PASSWORD = "correct-horse-battery-staple"
STAFF = {"viewer": StaffRole.VIEWER, "operator": StaffRole.OPERATOR, "supervisor": StaffRole.SUPERVISOR}
"""One account per role, each login named after its role."""

_TOKEN = re.compile(r'name="(?:csrf|form_token)" value="([^"]+)"')


@dataclass
class Town:
    """Every role on a background loop with a fixed clock, a generated town, and the city's console."""

    dep: Deployment
    clock: FixedClock
    town: SampleTown
    loop: asyncio.AbstractEventLoop
    console: ConsoleServer | None = None
    closers: list[Any] = field(default_factory=list)

    def run(self, coro: Coroutine[Any, Any, T], *, timeout: float = 120.0) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return future.result(timeout=timeout)

    @property
    def base_url(self) -> str:
        assert self.console is not None
        return self.console.base_url

    def client(self) -> httpx.Client:
        """A browser-like HTTPS client trusting only the city's backbone CA (the console's issuer)."""
        assert self.console is not None
        assert self.console.certificate is not None
        trust = ssl.create_default_context(cafile=str(self.console.certificate.ca_path))
        return httpx.Client(base_url=self.base_url, verify=trust, timeout=60)


def add_staff_accounts(dep: Deployment, clock: FixedClock, city: str = CITY) -> None:
    console = dep.city(city).console
    assert console is not None
    store = SqlConsoleStore.from_url(dep.database_url(console.database))
    try:
        access = ConsoleAccess(store=store, clock=clock)
        for login, role in STAFF.items():
            access.add_staff(login=login, role=role, password=PASSWORD)
    finally:
        store.dispose()


def token_of(page: str) -> str:
    """The CSRF or form token in a page's form."""
    found = _TOKEN.search(page)
    assert found, "the page has no form token"
    return found.group(1)


def log_in(client: httpx.Client, login: str, password: str = PASSWORD) -> str:
    """Log in through the login form; the session's CSRF token (from the page after login)."""
    form = client.get("/login")
    answer = client.post(
        "/login",
        data={"login": login, "password": password, "form_token": token_of(form.text), "next": "/staff/stats"},
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/staff/stats"
    return token_of(client.get("/staff/stats").text)


async def issue_at_kiosk(dep: Deployment, clock: FixedClock, card: TownCard, kind: str) -> Issued:
    """One resident's whole transaction at a store kiosk, through every role (as `yakuba kiosk issue`); the
    resident takes the copies (out of the kiosk's spool, into the deployment's `taken` folder)."""
    reader = VirtualCardReader.open(dep, path=card.path)
    async with open_kiosk(dep, instance=KIOSK, clock=clock) as terminal:
        receipt, taken = await run_transaction(
            terminal,
            reader=reader,
            choice=Choice(basis="residence", city=card.city_code, kind=kind, options={}, copies=1),
            pin=card.pin,
            take_to=dep.state_dir / "taken" / receipt_folder(),
        )
    # The HQ answers the kiosk at once; the center's and the issuer's records close from its next batch.
    assert await wait_until_reported(dep, timeout_s=30.0) == 0
    return Issued(transaction_id=receipt.transaction_id, charged_yen=receipt.charged_yen, printed=taken)


@dataclass(frozen=True, slots=True, kw_only=True)
class Issued:
    """A finished transaction: its id, what was charged, and the copies the resident took."""

    transaction_id: str
    charged_yen: int
    printed: tuple[Path, ...]


def receipt_folder() -> str:
    """A fresh folder name per transaction, so taken copies never meet another's."""
    return secrets.token_hex(8)
