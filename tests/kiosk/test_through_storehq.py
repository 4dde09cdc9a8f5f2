"""The kiosk through the real store HQ to a stand-in center, all over mTLS: tags, billing, refusal, one path."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from yakuba.config import Deployment
from yakuba.documents import DocumentTrust
from yakuba.kiosk import open_kiosk
from yakuba.kiosk.errors import DocumentRefusedError
from yakuba.pki import load_service_identity
from yakuba.pki.card import VirtualCardReader
from yakuba.storehq import create_app, listen_segment, wait_until_reported
from yakuba.wire import Server
from yakuba.wire.messages import Basis, Outcome, TaggedCompletion

from .kiosk_support import CITY, FEE, HQ, KIOSK, PIN, Binding, StandInHq, center_app


@pytest.fixture
async def chain(deployment: Deployment, hq: StandInHq) -> AsyncIterator[Server]:
    """The stand-in center on the dedicated line and midori's real HQ in front of it; yields the HQ."""
    for stale in deployment.state_dir.glob("midori-hq.sqlite3*"):
        stale.unlink()
    center_identity = load_service_identity(deployment, instance="center-1", segment_id="dedicated")
    async with Server(app=center_app(hq), identity=center_identity) as center:
        app = create_app(deployment, instance=HQ, center_url=center.base_url)
        identity = load_service_identity(deployment, instance=HQ, segment_id=listen_segment(deployment, HQ))
        async with Server(app=app, identity=identity) as server:
            yield server


async def _delivered(deployment: Deployment) -> None:
    """The HQ answers the kiosk at once; the stand-in center hears of the completion in a batch soon after."""
    assert await wait_until_reported(deployment, timeout_s=30.0, chains={"midori"}) == 0


def _billing(deployment: Deployment) -> list[tuple[object, ...]]:
    with sqlite3.connect(deployment.state_dir / "midori-hq.sqlite3") as conn:
        rows = list(conn.execute("SELECT transaction_id, kiosk_id, city, kind, status, amount_yen FROM billing_lines"))
    conn.close()
    return rows


async def _run(deployment: Deployment, hq_url: str, reader: VirtualCardReader, trust: DocumentTrust) -> object:
    async with open_kiosk(deployment, instance=KIOSK, hq_url=hq_url, trust=trust) as kiosk:
        session = kiosk.new_session()
        await session.start()
        await session.insert_card(reader)
        await session.choose_basis(Basis.RESIDENCE, CITY)
        await session.choose("juminhyo", {"show_relationship": True}, 1)
        await session.enter_pin(PIN)
        await session.remove_card()
        await session.request_issuance()
        await session.confirm_fee()
        await session.pay(100, 100)
        receipt = await session.print()
        await session.take_certificate()
        return receipt


async def test_one_certificate_through_the_real_hq(
    deployment: Deployment,
    chain: Server,
    hq: StandInHq,
    reader: VirtualCardReader,
    document_trust: DocumentTrust,
    fresh_state: Path,
) -> None:
    receipt = await _run(deployment, chain.base_url, reader, document_trust)
    tx = receipt.transaction_id  # type: ignore[attr-defined]
    assert hq.asks == [KIOSK]
    [tagged] = hq.tagged
    assert (tagged.chain_id, tagged.request.kiosk_id, tagged.request.transaction_id) == ("midori", KIOSK, tx)
    await _delivered(deployment)
    [(completion, key)] = hq.completions
    assert isinstance(completion, TaggedCompletion)
    assert key is not None
    assert key.startswith("batch-")
    assert (completion.city, completion.kind, completion.outcome) == (CITY, "juminhyo", Outcome.PRINTED)
    assert _billing(deployment) == [(tx, KIOSK, CITY, "juminhyo", "printed", FEE)]


async def test_a_wrongly_bound_certificate_through_the_real_hq_is_billed_as_abandoned(
    deployment: Deployment,
    chain: Server,
    hq: StandInHq,
    reader: VirtualCardReader,
    document_trust: DocumentTrust,
    fresh_state: Path,
) -> None:
    hq.binding = Binding.OTHER_CARD
    with pytest.raises(DocumentRefusedError):
        await _run(deployment, chain.base_url, reader, document_trust)
    [(tx, *_rest, status, amount)] = _billing(deployment)
    assert (status, amount) == ("abandoned", 0)
    await _delivered(deployment)
    [(completion, _)] = hq.completions
    assert (completion.transaction_id, completion.reason) == (tx, "binding_mismatch")
    assert not fresh_state.exists() or list(fresh_state.iterdir()) == []
