"""Fixtures for the kiosk tests: a deployment with its PKI, a real signed certificate, a card, a stand-in HQ."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from yakuba.clock import JST, FixedClock
from yakuba.config import Deployment, write_sample
from yakuba.documents import (
    DocumentKind,
    DocumentSigner,
    DocumentTrust,
    IssuedDocument,
    RenderEngine,
    issue_document,
    sample_request,
)
from yakuba.kiosk import open_kiosk, spool_dir
from yakuba.kiosk.service import Kiosk
from yakuba.kiosk.store import KioskLogStore
from yakuba.pki import CardTrust, init_pki, load_service_identity
from yakuba.pki.card import VirtualCardReader, enrol_card
from yakuba.wire import Server

from .kiosk_support import CITY, HQ, KIOSK, PIN, STORE, StandInHq, hq_app


@pytest.fixture(scope="session")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    dep = write_sample(tmp_path_factory.mktemp("kiosk") / "deployment")
    init_pki(dep)
    return dep


@pytest.fixture(scope="session")
def document(deployment: Deployment) -> IssuedDocument:
    """A genuine 住民票の写し of the deployment's first city, signed with that city's key."""
    signer = DocumentSigner.from_key_dir(deployment.key_dir, CITY)
    request = sample_request(
        DocumentKind.RESIDENT_RECORD, seed=7, issued_at=dt.datetime.now(JST).replace(microsecond=0)
    )
    return issue_document(request, engine=RenderEngine.create(), signer=signer)


@pytest.fixture(scope="session")
def document_trust(deployment: Deployment) -> DocumentTrust:
    return DocumentTrust.from_key_dir(deployment.key_dir)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(dt.datetime.now(dt.UTC))


@pytest.fixture
def card_path(deployment: Deployment, tmp_path: Path) -> Path:
    path = tmp_path / "resident.card"
    enrol_card(deployment, city_code=CITY, pin=PIN, path=path)
    return path


@pytest.fixture
def reader(deployment: Deployment, card_path: Path) -> VirtualCardReader:
    return VirtualCardReader.open(deployment, path=card_path)


@pytest.fixture
def hq(deployment: Deployment, document: IssuedDocument) -> StandInHq:
    return StandInHq(document=document, trust=CardTrust.from_deployment(deployment))


@pytest.fixture
async def hq_server(hq: StandInHq, deployment: Deployment) -> AsyncIterator[Server]:
    identity = load_service_identity(deployment, instance=HQ, segment_id=STORE)
    async with Server(app=hq_app(hq), identity=identity) as server:
        yield server


@pytest.fixture
def fresh_state(deployment: Deployment) -> Path:
    """An empty spool and local log for the kiosk under test."""
    spool = spool_dir(deployment, KIOSK)
    shutil.rmtree(spool, ignore_errors=True)
    for stale in deployment.state_dir.glob(f"{KIOSK}.sqlite3*"):
        stale.unlink()
    return spool


@pytest.fixture
async def kiosk(
    deployment: Deployment, hq_server: Server, clock: FixedClock, document_trust: DocumentTrust, fresh_state: Path
) -> AsyncIterator[Kiosk]:
    async with open_kiosk(
        deployment, instance=KIOSK, clock=clock, hq_url=hq_server.base_url, trust=document_trust
    ) as terminal:
        yield terminal


@pytest.fixture
def kiosk_log(kiosk: Kiosk) -> KioskLogStore:
    assert isinstance(kiosk.log, KioskLogStore)
    return kiosk.log
