"""The harness itself: Debian's Chromium starts, renders Japanese, and the live town answers."""

from __future__ import annotations

from playwright.sync_api import Page

from yakuba.network.processes import check_health

from .conftest import LiveTown, Shots


def test_chromium_renders_japanese_and_screenshots_land_in_the_output(page: Page, shot: Shots) -> None:
    page.set_content("<html lang='ja'><body><h1>行政サービス</h1></body></html>")
    assert page.inner_text("h1") == "行政サービス"
    path = shot(page, "harness")
    assert path.read_bytes().startswith(b"\x89PNG")


def test_the_live_town_answers_health_checks(live_town: LiveTown) -> None:
    answer = live_town.run(check_health(live_town.dep, "center-1"))
    assert answer
