"""The center's logic through its seams (no network): timeouts abort, the CRL cache refuses forged or old CRLs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from yakuba.center import CenterService, LineStatus
from yakuba.center.revocation import RevocationCache
from yakuba.center.store import SqlSettlementStore
from yakuba.clock import FixedClock
from yakuba.config import Deployment
from yakuba.database import make_engine
from yakuba.errors import UpstreamError, UpstreamTimeout
from yakuba.pki import CardTrust, load_crl, revoke_card
from yakuba.pki.card import CardInfo
from yakuba.wire import ChallengeStore
from yakuba.wire.messages import (
    CompletionBatch,
    CompletionBatchAnswer,
    RelayedIssuanceAnswer,
    RoutedSubmission,
    TaggedSubmission,
)

from .center_support import CHAIN, HQ, KIOSK, Kiosk, new_clock


@dataclass
class Fetched:
    number: int
    der: bytes | None


class LocalCrl:
    """The CRL straight from the key folder, or whatever DER the test puts in."""

    def __init__(self, dep: Deployment) -> None:
        self.dep = dep
        self.override: bytes | None = None
        self.fetches = 0

    async def fetch_crl(self, *, known_number: int | None) -> Fetched:
        self.fetches += 1
        if self.override is not None:
            return Fetched(number=10_001, der=self.override)
        crl = load_crl(self.dep)
        number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
        return Fetched(number=number, der=crl.public_bytes(serialization.Encoding.DER))


class SilentCity:
    """A city that never answers in time."""

    async def submit(self, city: str, submission: RoutedSubmission) -> RelayedIssuanceAnswer:
        raise UpstreamTimeout(f"no answer from city {city} in time")

    async def complete_batch(self, city: str, batch: CompletionBatch) -> CompletionBatchAnswer:
        raise UpstreamTimeout(f"no answer from city {city} in time")


@pytest.fixture
def clock() -> FixedClock:
    return new_clock()


@pytest.fixture
def store(tmp_path: Path) -> SqlSettlementStore:
    engine = make_engine(f"sqlite:///{tmp_path}/center.sqlite3")
    store = SqlSettlementStore(engine=engine)
    store.migrate()
    return store


async def test_a_timeout_aborts_the_transaction_and_is_passed_on(
    deployment: Deployment, card: CardInfo, clock: FixedClock, store: SqlSettlementStore
) -> None:
    engine = make_engine(f"sqlite:///{store._engine.url.database}")
    challenges = ChallengeStore.open(engine=engine, clock=clock)
    source = LocalCrl(deployment)
    trust = RevocationCache(anchors=CardTrust.from_deployment(deployment), source=source, clock=clock)
    service = CenterService.from_deployment(
        deployment, challenges=challenges, trust=trust, forwarders=SilentCity(), store=store, clock=clock
    )
    kiosk = Kiosk(dep=deployment, hq=None, clock=clock)  # type: ignore[arg-type]
    request = kiosk.request()
    challenge = challenges.issue(KIOSK).value
    submission: TaggedSubmission = kiosk.sign(card, request, challenge)

    with pytest.raises(UpstreamTimeout):
        await service.submit(caller=HQ, submission=submission)
    line = store.find_line(request.transaction_id)
    assert line is not None
    assert (line.status, line.failure, line.amount_yen, line.chain_id) == (
        LineStatus.FAILED,
        "upstream_timeout",
        0,
        CHAIN,
    )
    # Warm cache: the CRL was fetched once, for the first request only.
    with pytest.raises(UpstreamError):
        await service.submit(caller=HQ, submission=kiosk.sign(card, kiosk.request(), challenges.issue(KIOSK).value))
    assert source.fetches == 1
    engine.dispose()


def _forged_crl(deployment: Deployment) -> bytes:
    """A CRL naming the JPKI CA as issuer but signed by another key: it would un-revoke every card."""
    real = load_crl(deployment)
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    forged = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(real.issuer)
        .last_update(now)
        .next_update(now + dt.timedelta(days=7))
        .add_extension(x509.CRLNumber(10_000), critical=False)
        .sign(key, hashes.SHA256())
    )
    return forged.public_bytes(serialization.Encoding.DER)


async def test_the_crl_cache_refuses_a_forged_crl(deployment: Deployment, clock: FixedClock) -> None:
    source = LocalCrl(deployment)
    cache = RevocationCache(anchors=CardTrust.from_deployment(deployment), source=source, clock=clock)
    await cache.refresh()
    number = cache.crl_number
    source.override = _forged_crl(deployment)
    with pytest.raises(UpstreamError, match="not signed"):
        await cache.refresh()
    assert cache.crl_number == number
    source.override = b"garbage"
    with pytest.raises(UpstreamError, match="cannot be parsed"):
        await cache.refresh()
    assert cache.crl_number == number


async def test_the_crl_cache_refuses_a_rollback(
    deployment: Deployment, clock: FixedClock, enrol: Callable[[], CardInfo]
) -> None:
    source = LocalCrl(deployment)
    cache = RevocationCache(anchors=CardTrust.from_deployment(deployment), source=source, clock=clock)
    old = load_crl(deployment).public_bytes(serialization.Encoding.DER)
    card = enrol()
    revoke_card(deployment, card.serial, "keyCompromise")
    await cache.refresh()
    source.override = old
    with pytest.raises(UpstreamError, match="older"):
        await cache.refresh()
    trust = await cache.trust()
    assert trust.crl.get_revoked_certificate_by_serial_number(int(card.serial, 16)) is not None
