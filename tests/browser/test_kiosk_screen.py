"""The kiosk screen in Debian's Chromium against the live town: issuance to a verified PDF, PIN tries, a locked
card, a paper jam, refusals, and the inactivity reset; every screen is screenshotted."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from yakuba.documents import DocumentTrust, verify_document
from yakuba.network.sample_town import Situation
from yakuba.pki.card import enrol_card

from .conftest import LiveTown, Shots
from .kiosk_support import KioskScreen, enter_pin, issue_on_screen, on_screen, press, running_screen

pytestmark = pytest.mark.slow


@pytest.fixture
def screen(live_town: LiveTown, tmp_path: Path) -> Iterator[KioskScreen]:
    with running_screen(live_town, tray=tmp_path / "tray") as running:
        yield running


def test_a_full_issuance_prints_a_certificate_that_verifies(
    page: Page, shot: Shots, live_town: LiveTown, screen: KioskScreen
) -> None:
    card = live_town.town.card(Situation.HOUSEHOLD)
    outcome = issue_on_screen(
        page, screen.base_url, card, "juminhyo", options=("show_relationship",), coins=(5, 500), shot=shot
    )
    assert outcome.screen == "done", outcome
    printed = sorted(screen.tray.glob("tx-*-copy*.pdf"))
    assert len(printed) == 1
    trust = DocumentTrust.from_key_dir(live_town.dep.key_dir)
    # Off this thread: Playwright's sync API runs an event loop here, and the PDF check runs its own.
    verified = live_town.run(asyncio.to_thread(verify_document, printed[0].read_bytes(), trust=trust))
    assert verified.summary.city_code == card.city_code
    assert verified.summary.kind.value == "juminhyo"
    # 500 in for a 200-yen certificate: 300 back in coins.
    assert sorted(int(li.get_attribute("data-yen") or 0) for li in page.locator("#change li").all()) == [100, 100, 100]


def _to_pin(page: Page, base_url: str, card_name: str, kind: str, shot: Shots | None = None) -> None:
    """Home -> card -> 住所地 -> KIND -> 1 copy -> the PIN pad."""
    page.goto(base_url + "/")
    press(page, "start")
    page.locator(f'[data-card="{card_name}"]').click()
    on_screen(page, "basis")
    press(page, "basis-residence")
    press(page, f"kind-{kind}")
    if page.locator('body[data-screen="options"]').count():
        press(page, "options-next")
    press(page, "copies-1")
    on_screen(page, "pin")


def test_a_wrong_pin_twice_then_the_right_one(
    page: Page, shot: Shots, live_town: LiveTown, screen: KioskScreen
) -> None:
    card = live_town.town.card(Situation.SEAL)
    wrong = "0000" if card.pin != "0000" else "1111"
    _to_pin(page, screen.base_url, card.path.name, "inkan")
    expect(page.get_by_test_id("tries-left")).to_have_text("3")
    shot(page, "pin-3-tries")
    for left in ("2", "1"):
        enter_pin(page, wrong)
        on_screen(page, "pin")
        expect(page.get_by_test_id("tries-left")).to_have_text(left)
        expect(page.get_by_test_id("pin-message")).to_contain_text(f"あと{left}回")
        assert wrong not in page.locator("#screen").inner_text()  # digits are never shown
        shot(page, f"pin-wrong-{left}-left")
    enter_pin(page, card.pin)
    on_screen(page, "remove-card")
    shot(page, "remove-card")
    # The flow waits for the card: nothing goes to the city while it is on the reader.
    page.wait_for_timeout(500)
    on_screen(page, "remove-card")
    press(page, "sim-remove-card")
    on_screen(page, "fee")
    expect(page.get_by_test_id("fee-total")).to_have_attribute("data-yen", "200")
    shot(page, "fee")
    press(page, "cancel")
    on_screen(page, "refused")
    expect(page.get_by_test_id("refusal")).to_have_attribute("data-code", "cancelled")
    shot(page, "cancelled")
    press(page, "to-start")
    on_screen(page, "home")
    # The right PIN reset the count on the card.
    _to_pin(page, screen.base_url, card.path.name, "inkan")
    expect(page.get_by_test_id("tries-left")).to_have_text("3")
    press(page, "cancel")
    press(page, "sim-remove-card")
    press(page, "to-start")
    on_screen(page, "home")


def test_a_locked_card_is_sent_to_the_city_counter(
    page: Page, shot: Shots, live_town: LiveTown, tmp_path: Path
) -> None:
    slot = tmp_path / "slot"
    slot.mkdir()
    city = live_town.dep.cities[0].code
    enrol_card(live_town.dep, city_code=city, pin="4321", path=slot / "locked.card")
    with running_screen(live_town, tray=tmp_path / "tray", card_slot=slot) as screen:
        _to_pin(page, screen.base_url, "locked.card", "inkan")
        for _ in range(2):
            enter_pin(page, "1111")
            on_screen(page, "pin")
        enter_pin(page, "1111")
        on_screen(page, "refused")
        expect(page.get_by_test_id("refusal")).to_have_attribute("data-code", "card_locked")
        expect(page.get_by_test_id("refusal-next")).to_contain_text("窓口")
        expect(page.get_by_test_id("take-card-too")).to_be_visible()
        shot(page, "locked-by-third-wrong-pin")
        press(page, "lang-switch")
        expect(page.get_by_test_id("refusal-next")).to_contain_text("city office counter")
        shot(page, "locked-by-third-wrong-pin-en")
        press(page, "sim-remove-card")
        expect(page.get_by_test_id("take-card-too")).to_have_count(0)
        press(page, "to-start")
        on_screen(page, "home")
        expect(page.locator("body")).to_have_attribute("data-lang", "ja")
        # Placed again, the locked card is refused at once.
        press(page, "start")
        page.locator('[data-card="locked.card"]').click()
        on_screen(page, "refused")
        expect(page.get_by_test_id("refusal")).to_have_attribute("data-code", "card_locked")
        shot(page, "locked-on-insert")


def test_a_paper_jam_voids_the_sheet_and_returns_the_coins(
    page: Page, shot: Shots, live_town: LiveTown, tmp_path: Path
) -> None:
    card = live_town.town.card(Situation.KOSEKI)
    with running_screen(live_town, tray=tmp_path / "tray", print_seconds=1.5) as screen:
        page.goto(screen.base_url + "/")
        press(page, "sim-jam")
        expect(page.get_by_test_id("sim-jam")).to_have_attribute("data-jam", "on")
        press(page, "lang-switch")  # this resident reads English: the screenshots show every screen in English
        expect(page.locator("body")).to_have_attribute("data-lang", "en")
        outcome = issue_on_screen(page, screen.base_url, card, "koseki-zenbu", coins=(500,), shot=shot)
        assert outcome.screen == "void", outcome
        returned = [int(li.get_attribute("data-yen") or 0) for li in page.locator("#returned li").all()]
        assert returned == [500]  # nothing charged: the whole 500 comes back
        assert not list(screen.tray.glob("*.pdf"))
        spool = live_town.dep.state_dir / "kiosks" / screen.instance / "spool"
        assert not list(spool.glob("*.pdf"))
        press(page, "to-start")
        on_screen(page, "home")


def test_the_screen_resets_after_inactivity_and_keeps_nothing(
    page: Page, shot: Shots, live_town: LiveTown, tmp_path: Path
) -> None:
    card = live_town.town.card(Situation.HOUSEHOLD)
    with running_screen(live_town, tray=tmp_path / "tray", idle_seconds=1.5, end_seconds=1.5) as screen:
        answer = page.goto(screen.base_url + "/")
        assert answer is not None
        assert answer.headers["cache-control"] == "no-store"
        press(page, "lang-switch")
        press(page, "start")
        page.locator(f'[data-card="{card.path.name}"]').click()
        press(page, "basis-residence")
        press(page, "kind-juminhyo")
        on_screen(page, "options")
        old_token = page.locator('input[name="t"]').first.get_attribute("value")
        shot(page, "left-at-options")
        # Nobody touches the screen: it goes back to the start by itself, card ejected, in Japanese.
        on_screen(page, "home", timeout=10_000)
        shot(page, "after-inactivity")
        expect(page.locator("body")).to_have_attribute("data-lang", "ja")
        expect(page.get_by_test_id("sim-card-in")).to_have_count(0)
        for earlier in ("住民票の写し", "Residence record", "世帯主・続柄", "household head"):
            assert earlier not in page.content()
        assert page.locator('input[name="t"]').first.get_attribute("value") != old_token
        # A post from the previous resident's page does nothing.
        page.request.post(screen.base_url + "/act/start", form={"t": old_token or ""})
        page.reload()
        on_screen(page, "home")
        # Nothing was kept in the browser.
        assert page.context.cookies() == []
        assert page.evaluate("window.localStorage.length + window.sessionStorage.length") == 0
        assert page.url == screen.base_url + "/"
        # The card is usable again at once: the cancelled session released it.
        press(page, "start")
        page.locator(f'[data-card="{card.path.name}"]').click()
        on_screen(page, "basis")
        expect(page.get_by_test_id("tries-left")).to_have_text("3")


@pytest.mark.parametrize(
    ("situation", "kind", "code"),
    [(Situation.SUPPORT_MEASURE, "juminhyo", "not_eligible"), (Situation.UNDER_15, "juminhyo", "not_eligible")],
)
def test_a_resident_who_may_not_get_a_certificate_is_told_what_to_do(
    page: Page, shot: Shots, live_town: LiveTown, screen: KioskScreen, situation: Situation, kind: str, code: str
) -> None:
    outcome = issue_on_screen(page, screen.base_url, live_town.town.card(situation), kind, shot=shot)
    assert outcome.code == code
    expect(page.get_by_test_id("refusal-next")).not_to_be_empty()
    assert not list(screen.tray.glob("*.pdf"))


def test_a_network_failure_is_a_clear_refusal(page: Page, shot: Shots, live_town: LiveTown, tmp_path: Path) -> None:
    dead = f"https://127.0.0.1:{live_town.extra_ports[-1]}"  # nothing listens there
    card = live_town.town.card(Situation.HOUSEHOLD)
    with running_screen(live_town, tray=tmp_path / "tray", hq_url=dead) as screen:
        outcome = issue_on_screen(page, screen.base_url, card, "kazei", shot=shot)
        assert outcome.code == "upstream_error"
        expect(page.get_by_test_id("refusal-next")).to_contain_text("しばらくしてから")
        expect(page.get_by_test_id("take-card-too")).to_be_visible()
        press(page, "sim-remove-card")
        press(page, "to-start")


def test_a_honseki_request_without_registration_says_where_to_register(
    page: Page, shot: Shots, live_town: LiveTown, screen: KioskScreen
) -> None:
    card = live_town.town.card(Situation.KOSEKI)
    outcome = issue_on_screen(page, screen.base_url, card, "koseki-zenbu", honseki_city=card.city_code, shot=shot)
    assert outcome.code == "card_not_registered"
    expect(page.get_by_test_id("refusal-next")).to_contain_text("利用登録")
