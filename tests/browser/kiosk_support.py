"""Driving the kiosk screen from browser tests: a screen served on the live town's loop, and a resident's
whole issuance through it (`issue_on_screen`), for the kiosk screen's tests and the console's.

The screen's card slot is the town's card folder, so every town card can be placed on the reader as it is
(a card file is never copied: the virtual card voids itself when an older copy comes back).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page, expect

from yakuba.kiosk.screen import RunningScreen, ScreenController, ScreenSettings, open_screen
from yakuba.kiosk.service import coins_for
from yakuba.network.sample_town import TownCard

from .conftest import LiveTown, Shots

STEP_TIMEOUT_MS = 30_000
"""How long a test waits for a screen after a press (the network steps verify a signed PDF)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class KioskScreen:
    """A kiosk screen being served for a test."""

    base_url: str
    instance: str
    card_slot: Path
    tray: Path
    controller: ScreenController


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """How a run through the screen ended: the last screen and, for a refusal, its error code."""

    screen: str
    code: str | None = None


def first_kiosk(live: LiveTown) -> str:
    """The deployment's first kiosk instance (a store's multi-copy machine)."""
    return next(iter(live.dep.kiosks()))[1].instance


@contextmanager
def running_screen(
    live: LiveTown,
    *,
    tray: Path,
    card_slot: Path | None = None,
    instance: str | None = None,
    idle_seconds: float = 120.0,
    end_seconds: float = 60.0,
    print_seconds: float = 0.3,
    hq_url: str | None = None,
) -> Iterator[KioskScreen]:
    """The screen of INSTANCE (default: the first kiosk) on a free loopback port, served on the town's loop, on
    the town's clock; its card slot is CARD_SLOT (default: the town's card folder)."""
    kiosk = instance or first_kiosk(live)
    slot = card_slot or live.dep.state_dir / "cards"
    settings = ScreenSettings(
        card_slot=slot,
        tray=tray,
        idle_seconds=idle_seconds,
        end_seconds=end_seconds,
        print_seconds_per_copy=print_seconds,
    )
    context = open_screen(live.dep, instance=kiosk, settings=settings, hq_url=hq_url, clock=live.clock)
    running: RunningScreen = live.run(context.__aenter__())
    try:
        yield KioskScreen(
            base_url=running.base_url, instance=kiosk, card_slot=slot, tray=tray, controller=running.controller
        )
    finally:
        live.run(context.__aexit__(None, None, None))


def on_screen(page: Page, name: str, *, timeout: float = STEP_TIMEOUT_MS) -> None:
    """Wait until the page shows screen NAME (``body[data-screen]``)."""
    expect(page.locator("body")).to_have_attribute("data-screen", name, timeout=timeout)


def press(page: Page, testid: str) -> None:
    """Press the button TESTID and wait until the page is drawn again (every press redraws it)."""
    before = page.locator("body").get_attribute("data-version")
    page.get_by_test_id(testid).click()
    expect(page.locator(f'body:not([data-version="{before}"])')).to_have_count(1, timeout=STEP_TIMEOUT_MS)


def enter_pin(page: Page, pin: str) -> None:
    """Tap the digits and OK; checks the digits never appear on the screen, only one dot per digit."""
    for digit in pin:
        page.locator(f'#pin-pad [data-digit="{digit}"]').click()
    expect(page.locator("#pin-dots span.on")).to_have_count(len(pin))
    assert pin not in page.locator("#pin-dots").inner_text()
    press(page, "pin-ok")


def screen_or_refusal(page: Page, *names: str) -> Outcome:
    """Wait for one of the screens NAMES or a refusal, whichever comes."""
    wanted = ", ".join(f'body[data-screen="{name}"]' for name in (*names, "refused"))
    expect(page.locator(wanted)).to_have_count(1, timeout=STEP_TIMEOUT_MS)
    screen = page.locator("body").get_attribute("data-screen") or ""
    code = page.locator("#refusal").get_attribute("data-code") if screen == "refused" else None
    return Outcome(screen=screen, code=code)


def issue_on_screen(
    page: Page,
    base_url: str,
    card: TownCard,
    kind: str,
    *,
    options: tuple[str, ...] = (),
    copies: int = 1,
    coins: tuple[int, ...] | None = None,
    honseki_city: str | None = None,
    shot: Shots | None = None,
) -> Outcome:
    """One resident's whole transaction on the screen at BASE_URL with CARD (in the screen's card slot): 住所地
    (or 本籍地 in HONSEKI_CITY), the certificate KIND with OPTIONS ticked, COPIES, the right PIN, the card taken
    out, the fee paid with COINS (default: exact change), printed and taken. Stops at the first refusal; returns
    how it ended. SHOT, when given, screenshots every screen on the way."""

    def snap(name: str) -> None:
        if shot is not None:
            shot(page, name)

    page.goto(base_url + "/")
    on_screen(page, "home")
    snap("home")
    press(page, "start")
    on_screen(page, "card")
    snap("card")
    page.locator(f'[data-card="{card.path.name}"]').click()
    outcome = screen_or_refusal(page, "basis")
    if outcome.screen == "refused":
        snap(f"refused-{outcome.code}")
        return outcome
    snap("basis")
    press(page, "basis-residence" if honseki_city is None else f"basis-honseki-{honseki_city}")
    on_screen(page, "kind")
    snap("kind")
    press(page, f"kind-{kind}")
    if page.locator('body[data-screen="options"]').count():
        for option in options:
            page.get_by_test_id(f"opt-{option}").check()
        snap("options")
        press(page, "options-next")
    on_screen(page, "copies")
    snap("copies")
    press(page, f"copies-{copies}")
    outcome = screen_or_refusal(page, "pin")
    if outcome.screen == "refused":
        snap(f"refused-{outcome.code}")
        return outcome
    snap("pin")
    enter_pin(page, card.pin)
    outcome = screen_or_refusal(page, "remove-card")
    if outcome.screen == "refused":
        snap(f"refused-{outcome.code}")
        return outcome
    snap("remove-card")
    press(page, "sim-remove-card")
    if page.locator('body[data-screen="working"]').count():
        snap("working")
    outcome = screen_or_refusal(page, "fee")
    if outcome.screen == "refused":
        snap(f"refused-{outcome.code}")
        return outcome
    snap("fee")
    total = int(page.get_by_test_id("fee-total").get_attribute("data-yen") or "0")
    press(page, "fee-confirm")
    if total:
        on_screen(page, "pay")
        snap("pay")
        for coin in coins if coins is not None else coins_for(total):
            if page.locator('body[data-screen="pay"]').count() == 0:
                break
            press(page, f"coin-{coin}")
            if page.locator("#pay-rejected").count():
                snap("pay-coin-returned")
    if page.locator('body[data-screen="printing"]').count():
        snap("printing")
    outcome = screen_or_refusal(page, "take", "void")
    if outcome.screen != "take":
        snap(outcome.screen)
        return outcome
    # The forgotten-certificate reminder flashes and chimes until Stop is pressed.
    expect(page.get_by_test_id("reminder")).to_be_visible()
    expect(page.locator('body[data-beeps="0"]')).to_have_count(0)
    snap("take")
    press(page, "take-stop")
    on_screen(page, "done")
    snap("done")
    return Outcome(screen="done")
