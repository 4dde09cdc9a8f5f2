"""A browser plays a smart-cut clip through: every frame decoded, none corrupted, across parameter-set switches."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright
from tests.recorder.provision.conftest import FPS, RECORDER_A, RECORDER_B, START, segment

from yakuba.recorder.provision import export_window

PLAY = """() => new Promise(done => {
  const video = document.querySelector('video');
  video.onerror = () => done({error: video.error.code});
  video.onended = () => {
    const quality = video.getVideoPlaybackQuality();
    done({decoded: quality.totalVideoFrames, corrupted: quality.corruptedVideoFrames, duration: video.duration});
  };
  video.playbackRate = 4;
  video.play().catch(e => done({error: String(e)}));
})"""


def test_chromium_plays_a_clip_spliced_from_two_makes_of_recorder(tmp_path: Path) -> None:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.fail("Debian's chromium is not installed: run ./dev setup (as root) or apt-get install chromium")
    sources = [
        segment(tmp_path / "b0.mp4", start=START, seconds=6, options=RECORDER_B, tint=30),
        segment(tmp_path / "a1.mp4", start=START + dt.timedelta(seconds=6), seconds=6, options=RECORDER_A),
    ]
    start, end = START + dt.timedelta(seconds=0.75), START + dt.timedelta(seconds=10.25)
    clip = export_window(sources=sources, start=start, end=end, dest=tmp_path / "clip.mp4")
    assert 0 < clip.copied < clip.frames  # re-encoded and copied pieces, two recorders' parameter sets
    page_file = tmp_path / "play.html"
    page_file.write_text(f'<video src="{clip.path.name}" muted></video>', encoding="utf-8")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.goto(page_file.as_uri())
            played = page.evaluate(PLAY)
        finally:
            browser.close()
    shown = clip.actual_last + dt.timedelta(seconds=1 / FPS) - clip.actual_first.replace(microsecond=0)
    assert played == {
        "decoded": clip.frames,
        "corrupted": 0,
        "duration": pytest.approx(shown.total_seconds(), abs=1.01 / FPS),  # Chromium: last frame start
    }
