"""PKI fixtures: one initialised sample deployment per session (key generation is slow), fresh cards per test."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from yakuba.config import Deployment, write_sample
from yakuba.pki import init_pki
from yakuba.pki.card import CardInfo, VirtualCardReader, enrol_card

NISHITOKYO = "132292"
KODAIRA = "132110"
PIN = "4321"


@pytest.fixture(scope="session")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    """A sample deployment with its PKI; tests may add cards and revocations but not break it."""
    dep = write_sample(tmp_path_factory.mktemp("pki") / "dep")
    init_pki(dep)
    return dep


@pytest.fixture
def fresh_deployment(tmp_path: Path) -> Deployment:
    """A deployment of this test's own, for tests that damage permissions or files."""
    dep = write_sample(tmp_path / "dep")
    init_pki(dep)
    return dep


@pytest.fixture
def enrol(deployment: Deployment, tmp_path: Path) -> Callable[..., CardInfo]:
    """Enrol a new card (default: Nishitokyo, PIN 4321) into this test's folder."""
    counter = iter(range(1000))

    def make(*, city_code: str = NISHITOKYO, pin: str = PIN) -> CardInfo:
        return enrol_card(deployment, city_code=city_code, pin=pin, path=tmp_path / f"card-{next(counter)}.card")

    return make


@pytest.fixture
def card(deployment: Deployment, enrol: Callable[..., CardInfo]) -> CardInfo:
    return enrol()


@pytest.fixture
def reader(deployment: Deployment, card: CardInfo) -> VirtualCardReader:
    """The card in a reader, JPKI application selected."""
    opened = VirtualCardReader.open(deployment, path=card.path)
    opened.select_jpki_ap()
    return opened


@pytest.fixture(scope="session")
def openssl() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the openssl command line (an independent implementation to check our output against)."""

    def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["openssl", *map(str, args)], capture_output=True, text=True, check=False, timeout=30)

    return run
