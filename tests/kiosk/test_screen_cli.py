"""`yakuba kiosk screen` as a user runs it: a process serving the screen on loopback until Ctrl-C."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from yakuba.config import Deployment
from yakuba.kiosk.screen import card_slot_dir, tray_dir

from .kiosk_support import KIOSK

STARTUP_S = 120
"""The command imports the whole CLI; on a loaded machine that takes a while."""


@pytest.mark.slow
def test_the_screen_command_serves_on_loopback_until_interrupted(deployment: Deployment) -> None:
    target = str(deployment.root)
    with subprocess.Popen(
        [sys.executable, "-m", "yakuba", "kiosk", "screen", target, "--kiosk", KIOSK, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as process:
        code = _serve_and_stop(process, deployment)
    assert code == 0


def _serve_and_stop(process: subprocess.Popen[str], deployment: Deployment) -> int:
    try:
        assert process.stdout is not None
        url = None
        deadline = time.monotonic() + STARTUP_S
        while url is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            found = re.search(r"http://127\.0\.0\.1:\d+/", line)
            url = found.group(0) if found else None
        assert url is not None, "the screen did not say where it listens"
        with urllib.request.urlopen(url, timeout=30) as answer:  # noqa: S310 (a loopback http URL we just read)
            page = answer.read().decode()
            assert answer.headers["Cache-Control"] == "no-store"
        assert 'data-screen="home"' in page
        assert card_slot_dir(deployment, KIOSK).is_dir()
        assert tray_dir(deployment, KIOSK).is_dir()
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=60)
    return code
