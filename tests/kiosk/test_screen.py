"""The kiosk screen's server side without a browser: the controller driving a real kiosk session against the
stand-in HQ over mTLS, every refusal's screen, the inactivity reset, and the web layer's guards."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from yakuba.center.errors import CitySuspendedError
from yakuba.config import Deployment
from yakuba.errors import (
    ConfigError,
    EligibilityError,
    ServiceClosedError,
    UpstreamTimeout,
    VerificationError,
    YakubaError,
)
from yakuba.kiosk.screen import City, Screen, ScreenController, ScreenServer, ScreenSettings, create_screen_app
from yakuba.kiosk.screen._web import render
from yakuba.kiosk.service import Kiosk, SpoolPrinter
from yakuba.pki.card import VirtualCardReader

from .kiosk_support import CITY, PIN, StandInHq


class FakeMonotonic:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def monotonic() -> FakeMonotonic:
    return FakeMonotonic()


@pytest.fixture
def settings(card_path: Path, tmp_path: Path) -> ScreenSettings:
    return ScreenSettings(
        card_slot=card_path.parent, tray=tmp_path / "tray", idle_seconds=30, end_seconds=5, print_seconds_per_copy=0
    )


@pytest.fixture
def controller(
    kiosk: Kiosk, deployment: Deployment, settings: ScreenSettings, monotonic: FakeMonotonic
) -> ScreenController:
    return ScreenController(
        kiosk=kiosk,
        settings=settings,
        cities=[City(code=c.code, name_ja=c.name, name_en=c.name_en) for c in deployment.cities],
        open_card=lambda path: VirtualCardReader.open(deployment, path=path),
        monotonic=monotonic,
    )


async def act(controller: ScreenController, action: str, **fields: str) -> Screen:
    await controller.act(action, {"t": controller.view().token, **fields})
    await controller.settled()
    return controller.screen


async def to_pin(controller: ScreenController, card: str, kind: str = "juminhyo") -> None:
    assert await act(controller, "start") is Screen.CARD
    assert await act(controller, "insert", card=card) is Screen.BASIS
    assert await act(controller, "basis", basis="residence") is Screen.KIND
    assert await act(controller, "kind", kind=kind) in (Screen.OPTIONS, Screen.COPIES)
    if controller.screen is Screen.OPTIONS:
        await controller.act("options", {"t": controller.view().token, "option": ["show_relationship", "bogus"]})
        assert controller.view().options == frozenset({"show_relationship"})
    assert await act(controller, "copies", copies="1") is Screen.PIN


async def test_a_whole_transaction_ends_with_the_certificate_in_the_tray(
    controller: ScreenController, card_path: Path, settings: ScreenSettings, hq: StandInHq
) -> None:
    await to_pin(controller, card_path.name)
    assert await act(controller, "pin", pin=PIN) is Screen.REMOVE_CARD
    assert not hq.submissions  # nothing is sent while the card is on the reader
    assert await act(controller, "remove") is Screen.FEE
    assert await act(controller, "confirm") is Screen.PAY
    assert await act(controller, "coin", coin="5") is Screen.PAY
    assert controller.view().rejected == 5
    assert await act(controller, "coin", coin="1000") is Screen.TAKE
    view = controller.view()
    assert view.receipt is not None
    assert view.receipt.change == (500, 100, 100, 100)
    assert "reminder" in render(view)
    assert await act(controller, "stop") is Screen.DONE
    taken = list(settings.tray.glob("tx-*-copy01.pdf"))
    assert len(taken) == 1
    assert taken[0].read_bytes() == hq.document.pdf
    assert hq.submissions[0][0].request.options == {"show_relationship": True}
    assert await act(controller, "reset") is Screen.HOME


@pytest.mark.parametrize(
    ("error", "code", "next_ja"),
    [
        (
            ServiceClosedError("the service hours are 06:30-23:00 JST", ja="サービス提供時間は…"),
            "service_closed",
            "サービス提供時間内",
        ),
        (CitySuspendedError(), "service_closed", "サービス提供時間内"),
        (EligibilityError(), "not_eligible", "窓口で請求"),
        (
            VerificationError("the card certificate has been revoked", ja="カードの電子証明書は失効しています"),
            "verification_failed",
            "更新",
        ),
        (UpstreamTimeout(), "upstream_timeout", "しばらくしてから"),
    ],
)
async def test_every_refusal_is_a_screen_saying_what_to_do_next(
    controller: ScreenController, card_path: Path, hq: StandInHq, error: YakubaError, code: str, next_ja: str
) -> None:
    hq.refuse_with = error
    await to_pin(controller, card_path.name)
    await act(controller, "pin", pin=PIN)
    assert await act(controller, "remove") is Screen.REFUSED
    view = controller.view()
    assert view.refusal_code == code
    assert view.guidance is not None
    assert next_ja in view.guidance.next_ja
    page = render(view)
    assert view.guidance.next_ja in page
    assert view.guidance.next_en in page  # both languages on a refusal
    assert await act(controller, "reset") is Screen.HOME


async def test_a_wrong_pin_keeps_the_pad_with_the_tries_left(controller: ScreenController, card_path: Path) -> None:
    await to_pin(controller, card_path.name)
    assert controller.view().tries_left == 3
    assert await act(controller, "pin", pin="9999" if PIN != "9999" else "8888") is Screen.PIN
    view = controller.view()
    assert view.tries_left == 2
    assert view.pin_message is not None
    assert "2" in view.pin_message[0]
    assert await act(controller, "pin", pin="12") is Screen.PIN  # not 4 digits: no try used
    assert controller.view().tries_left == 2
    assert await act(controller, "pin", pin=PIN) is Screen.REMOVE_CARD


async def test_cancel_returns_the_coins_and_the_card_taken_early_cancels(
    controller: ScreenController, card_path: Path
) -> None:
    await to_pin(controller, card_path.name)
    assert await act(controller, "remove") is Screen.REFUSED  # the card taken before the PIN
    assert controller.view().refusal_code == "cancelled"
    await act(controller, "reset")
    await to_pin(controller, card_path.name)
    await act(controller, "pin", pin=PIN)
    await act(controller, "remove")
    await act(controller, "confirm")
    await act(controller, "coin", coin="100")
    assert await act(controller, "cancel") is Screen.REFUSED
    assert controller.view().returned == (100,)


async def test_a_jam_on_every_sheet_voids_it_and_returns_every_coin(
    controller: ScreenController, card_path: Path, kiosk: Kiosk, settings: ScreenSettings
) -> None:
    await act(controller, "jam")
    assert isinstance(kiosk.printer, SpoolPrinter)
    assert kiosk.printer.jammed
    await to_pin(controller, card_path.name)
    await act(controller, "pin", pin=PIN)
    await act(controller, "remove")
    await act(controller, "confirm")
    assert await act(controller, "coin", coin="500") is Screen.VOID
    assert controller.view().returned == (500,)
    assert not list(settings.tray.glob("*.pdf"))


async def test_inactivity_resets_and_drops_everything(
    controller: ScreenController, card_path: Path, monotonic: FakeMonotonic, kiosk: Kiosk
) -> None:
    await to_pin(controller, card_path.name)
    token = controller.view().token
    watchdog = asyncio.create_task(controller.watch())
    try:
        monotonic.now += 29
        await asyncio.sleep(0.6)
        assert controller.screen is Screen.PIN  # not yet
        monotonic.now += 2
        for _ in range(40):
            if controller.screen is Screen.HOME:
                break
            await asyncio.sleep(0.1)
    finally:
        watchdog.cancel()
    view = controller.view()
    assert view.screen is Screen.HOME
    assert view.token != token
    assert (view.kind, view.tries_left, view.card_in, view.quote) == (None, None, False, None)
    assert not kiosk.busy
    await controller.act("start", {"t": token})  # the previous resident's page does nothing
    assert controller.screen is Screen.HOME


@pytest.fixture
async def client(controller: ScreenController) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_screen_app(controller))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as http:
        yield http


async def test_the_page_is_never_cached_and_refuses_other_sites(
    client: httpx.AsyncClient, controller: ScreenController
) -> None:
    page = await client.get("/")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "set-cookie" not in page.headers
    assert (await client.get("/state")).headers["cache-control"] == "no-store"
    token = controller.view().token
    cross = await client.post("/act/start", data={"t": token}, headers={"Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403
    foreign = await client.post("/act/start", data={"t": token}, headers={"Origin": "http://evil.example"})
    assert foreign.status_code == 403
    rebound = await client.get("/", headers={"Host": "evil.example"})
    assert rebound.status_code == 400
    assert controller.screen is Screen.HOME
    same = await client.post("/act/start", data={"t": token}, headers={"Sec-Fetch-Site": "same-origin"})
    assert (same.status_code, same.headers["location"]) == (303, "/")
    assert controller.screen is Screen.CARD


def test_the_screen_listens_on_loopback_only(controller: ScreenController) -> None:
    with pytest.raises(ConfigError):
        ScreenServer(controller=controller, host="0.0.0.0")  # noqa: S104
    ScreenServer(controller=controller, host="::1")


def test_every_code_a_kiosk_can_meet_has_its_own_guidance() -> None:
    from yakuba.kiosk.screen import guidance_for

    generic = guidance_for(YakubaError())
    for error in (ServiceClosedError(), EligibilityError(), VerificationError(), UpstreamTimeout(), ConfigError()):
        if isinstance(error, ConfigError):
            assert guidance_for(error) == generic
        else:
            assert guidance_for(error) != generic
    assert CITY  # the stand-in's city is the card's


async def test_the_start_screen_left_in_english_returns_to_japanese(
    controller: ScreenController, monotonic: FakeMonotonic
) -> None:
    await act(controller, "lang")
    assert controller.view().lang == "en"
    watchdog = asyncio.create_task(controller.watch())
    try:
        monotonic.now += 31
        for _ in range(40):
            if controller.view().lang == "ja":
                break
            await asyncio.sleep(0.1)
    finally:
        watchdog.cancel()
    assert controller.view().lang == "ja"
    assert controller.screen is Screen.HOME
