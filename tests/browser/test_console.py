"""The city operations console in Debian's Chromium against the live town: login, statistics that count the
issuances just made, a suspended kind refused at the kiosk, the encryption map of every hop, the verification
page; every console screen is screenshotted."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from yakuba.center import resume_city
from yakuba.config import segments
from yakuba.errors import KindSuspendedError
from yakuba.network.sample_town import Situation

from .conftest import LiveTown, Shots
from .console_support import (
    RunningConsole,
    console_page,
    issue_at_kiosk,
    log_in,
    running_console,
    suspend_city_as_the_center_does,
)
from .kiosk_support import issue_on_screen, running_screen

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def console(live_town: LiveTown) -> Iterator[RunningConsole]:
    with running_console(live_town) as running:
        yield running


@pytest.fixture
def staff_page(browser: Browser) -> Iterator[Page]:
    with console_page(browser) as page:
        yield page


def _count(page: Page, element_id: str) -> int:
    return int((page.locator(f"#{element_id}").inner_text()).replace(",", ""))


def test_console_login_refuses_a_wrong_password_and_lets_staff_in(
    staff_page: Page, shot: Shots, console: RunningConsole
) -> None:
    page = staff_page
    page.goto(console.base_url + "/staff/stats")
    expect(page).to_have_url(re.compile(r"/login\?next=/staff/stats$"))  # anonymous: the login page
    shot(page, "login")
    page.fill("#login", "viewer")
    page.fill("#password", "not the password")
    page.click("#login-submit")
    expect(page.locator("#error-code")).to_have_text("console_login_failed")
    shot(page, "login-refused")
    log_in(page, console, "viewer")
    expect(page).to_have_url(re.compile(r"/staff/stats$"))
    expect(page.locator("h1")).to_have_text("交付統計（本日）")
    page.click("#lang-switch")
    expect(page.locator("h1")).to_have_text("Issuance statistics (today)")
    shot(page, "stats-english")
    page.click("#lang-switch")
    page.goto(console.base_url + "/staff/controls")  # a viewer may not
    expect(page.locator("#error-code")).to_have_text("console_role_required")
    shot(page, "viewer-refused-controls")
    page.goto(console.base_url + "/staff/stats")
    page.click("#logout")
    expect(page).to_have_url(re.compile(r"/login$"))
    page.goto(console.base_url + "/staff/log")
    expect(page).to_have_url(re.compile(r"/login\?next=/staff/log$"))


def test_statistics_reflect_the_issuances_just_made(
    staff_page: Page, shot: Shots, live_town: LiveTown, console: RunningConsole
) -> None:
    page = staff_page
    log_in(page, console, "viewer")
    before = {name: _count(page, name) for name in ("total-transactions", "total-copies", "total-yen")}
    shot(page, "stats-before")
    receipts = [
        live_town.run(issue_at_kiosk(live_town, live_town.town.card(Situation.HOUSEHOLD, city_code="132292"), kind))
        for kind in ("juminhyo", "kazei")
    ]
    assert all(r.printed for r in receipts)
    page.reload()
    assert _count(page, "total-transactions") == before["total-transactions"] + 2
    assert _count(page, "total-copies") == before["total-copies"] + 2
    assert _count(page, "total-yen") == before["total-yen"] + sum(r.charged_yen for r in receipts)
    expect(page.locator('#chart-kind text.value[data-label="kazei"]')).to_have_count(1)
    expect(page.locator('#chart-chain text.value[data-label="midori"]')).to_have_count(1)
    shot(page, "stats-after")
    page.click("text=交付記録")
    for receipt in receipts:
        expect(page.locator("#issuance-log")).to_contain_text(receipt.transaction_id)
    shot(page, "issuance-log")
    page.click("text=精算")
    expect(page.locator("#settlement")).to_be_visible()
    assert int(page.locator("#settlement-printed").inner_text()) >= 2
    shot(page, "settlement")


def test_a_kind_suspended_in_the_console_is_refused_at_the_kiosk(
    staff_page: Page, shot: Shots, live_town: LiveTown, console: RunningConsole
) -> None:
    page = staff_page
    card = live_town.town.card(Situation.HOUSEHOLD, city_code="132292")
    log_in(page, console, "operator")
    page.click("text=サービス制御")
    shot(page, "controls")
    page.select_option("#suspend-kind", "juminhyo")
    page.fill("#suspend-note", "帳票点検のため")
    page.click("#suspend-submit")
    expect(page.locator("#saved")).to_be_visible()
    row = page.locator('tr.control.active[data-kind="juminhyo"]')
    expect(row).to_have_count(1)
    shot(page, "controls-juminhyo-suspended")
    try:
        with pytest.raises(KindSuspendedError) as refused:
            live_town.run(issue_at_kiosk(live_town, card, "juminhyo"))
        assert "停止" in refused.value.text_ja
        assert "not being issued" in refused.value.text_en
    finally:
        page.goto(console.base_url + "/staff/controls")
        row.locator("button.lift").click()
        expect(page.locator('tr.control.active[data-kind="juminhyo"]')).to_have_count(0)
    shot(page, "controls-lifted")
    assert live_town.run(issue_at_kiosk(live_town, card, "juminhyo")).printed


def test_a_kind_suspended_in_the_console_is_refused_on_the_kiosk_screen(
    page: Page, staff_page: Page, shot: Shots, live_town: LiveTown, console: RunningConsole, tmp_path: Path
) -> None:
    """The same suspension through the kiosk screen: the resident sees the refusal, in Japanese, with its code."""
    card = live_town.town.card(Situation.HOUSEHOLD, city_code="132292")
    log_in(staff_page, console, "operator")
    staff_page.goto(console.base_url + "/staff/controls")
    staff_page.select_option("#suspend-kind", "juminhyo")
    staff_page.click("#suspend-submit")
    row = staff_page.locator('tr.control.active[data-kind="juminhyo"]')
    expect(row).to_have_count(1)
    try:
        with running_screen(live_town, tray=tmp_path / "tray") as screen:
            outcome = issue_on_screen(page, screen.base_url, card, "juminhyo")
            assert outcome.screen == "refused", outcome
            assert outcome.code == "kind_suspended"
            shot(page, "kiosk-screen-refused-kind-suspended")
    finally:
        row.locator("button.lift").click()
        expect(staff_page.locator('tr.control.active[data-kind="juminhyo"]')).to_have_count(0)


def test_the_encryption_map_lists_every_hop_of_the_deployment(
    staff_page: Page, shot: Shots, live_town: LiveTown, console: RunningConsole
) -> None:
    page = staff_page
    log_in(page, console, "viewer")
    page.click("text=暗号化マップ")
    expect(page.locator("#encryption-diagram")).to_be_visible()
    hops = page.locator("#hops tr.hop")
    listed = {
        (hops.nth(i).get_attribute("data-segment"), hops.nth(i).get_attribute("data-server"))
        for i in range(hops.count())
    }
    expected = {(seg.id, m.instance) for seg in segments(live_town.dep) for m in seg.servers}
    assert listed == expected | {("console", "nishitokyo-console")}
    expect(page.locator("#hops tr.hop.bad")).to_have_count(0)
    for segment, _server in expected:
        expect(page.locator(f'#hops tr.hop[data-segment="{segment}"]').first).to_contain_text("TLSv1.")
    expect(page.locator("#keys")).to_contain_text("文書署名鍵")
    expect(page.locator("#keys")).to_contain_text("Argon2id")
    shot(page, "encryption-map")


def test_audit_log_browser_verifies_the_log_and_proves_an_entry(
    staff_page: Page, shot: Shots, console: RunningConsole
) -> None:
    page = staff_page
    log_in(page, console, "viewer")
    page.click("text=監査ログ")
    expect(page.locator("#audit-entries")).to_be_visible()
    shot(page, "audit-log")
    page.click("#verify-log")
    expect(page.locator("#log-check")).to_contain_text("検証成功")
    shot(page, "audit-verified")
    page.locator("a.prove").first.click()
    expect(page.locator("#proof")).to_contain_text("inclusion proven against the signed checkpoint")
    shot(page, "audit-proof")


def test_an_integrity_alert_is_shown_and_only_a_supervisor_resumes_the_city(
    staff_page: Page, shot: Shots, live_town: LiveTown, console: RunningConsole
) -> None:
    page = staff_page
    suspend_city_as_the_center_does(live_town)
    try:
        log_in(page, console, "operator")
        page.click("text=警報")
        expect(page.locator("#suspension")).to_contain_text("answer_mismatch")
        expect(page.locator("#resume")).to_have_count(0)
        shot(page, "alert-operator")
        page.click("#logout")
        log_in(page, console, "supervisor")
        page.goto(console.base_url + "/staff/alerts")
        shot(page, "alert-supervisor")
        page.click("#resume")
        expect(page.locator("#resumed")).to_be_visible()
        expect(page.locator("#no-alert")).to_be_visible()
        shot(page, "alert-resumed")
    finally:
        resume_city(live_town.dep, "132292")  # whatever happened above, the town goes on for the next tests


def test_the_verification_page_confirms_a_certificate_by_serial_and_by_pdf(
    staff_page: Page, shot: Shots, live_town: LiveTown, console: RunningConsole, tmp_path: Path
) -> None:
    page = staff_page
    receipt = live_town.run(issue_at_kiosk(live_town, live_town.town.card(Situation.SEAL, city_code="132292"), "inkan"))
    pdf = tmp_path / "certificate.pdf"
    pdf.write_bytes(receipt.printed[0].read_bytes())
    page.goto(console.base_url + "/verify")  # no login
    shot(page, "verify")
    page.set_input_files("#file", str(pdf))
    page.click("#upload-submit")
    expect(page.locator("#verdict")).to_have_text("本物の証明書です")
    serial = page.locator("#finding-serial").inner_text()
    assert re.fullmatch(r"J229-\d{8}", serial)
    expect(page.locator("#finding-kind")).to_contain_text("印鑑登録証明書")
    shot(page, "verify-pdf-genuine")
    issued_on = page.locator("#finding-issued-on").inner_text()
    page.fill("#serial", serial)
    page.fill("#issued-on", issued_on)
    page.click("#serial-submit")
    expect(page.locator("#verdict")).to_have_text("本物の証明書です")
    shot(page, "verify-serial-genuine")
    page.fill("#serial", "J229-99999999")
    page.fill("#issued-on", issued_on)
    page.click("#serial-submit")
    expect(page.locator("#verdict")).to_have_text("本物と確認できませんでした")
    shot(page, "verify-serial-unknown")


def test_a_supervisor_sees_the_staff_accounts_with_a_button_for_every_account_but_their_own(
    staff_page: Page, shot: Shots, console: RunningConsole
) -> None:
    page = staff_page
    log_in(page, console, "supervisor")
    page.click("text=職員アカウント")
    rows = page.locator("#accounts tr.account")
    expect(rows).to_have_count(3)  # viewer, operator, supervisor
    expect(page.locator('tr[data-login="supervisor"] button')).to_have_count(0)  # not one's own account
    expect(page.locator('tr[data-login="viewer"] button.danger')).to_be_visible()
    shot(page, "staff-accounts")
