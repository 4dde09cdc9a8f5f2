"""The center over real mTLS: who may ask, the challenge, the card, routing, idempotency, upstream failures."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from yakuba.center import Catalogue, CityPolicy, SettlementLine, find_suspension, resume_city
from yakuba.center.catalogue import DEFAULT_HOURS
from yakuba.center.revocation import MAX_STATUS_SILENCE
from yakuba.center.store import SqlSettlementStore
from yakuba.config import Deployment, write_sample
from yakuba.database import make_engine
from yakuba.errors import (
    AuthorizationError,
    EligibilityError,
    NotFoundError,
    ServiceClosedError,
    TransactionConflictError,
    UpstreamError,
    ValidationError,
    VerificationError,
)
from yakuba.pki import init_pki, revoke_card
from yakuba.pki.card import CardInfo, enrol_card
from yakuba.wire.digest import request_digest
from yakuba.wire.messages import PATH_CHALLENGES, Basis, ChallengeAsk

from .center_support import (
    CHAIN,
    ENVELOPE,
    KIOSK,
    KODAIRA,
    NISHITOKYO,
    OTHER_CHAIN,
    OTHER_CHAIN_KIOSK,
    OTHER_KIOSK,
    header,
)
from .conftest import Network, run_network


async def test_health_names_the_role_and_instance(net: Network) -> None:
    async with net.hq_session.get(net.center.base_url + "/v1/health") as response:
        assert response.status == 200
        assert await response.json() == {"status": "ok", "role": "center", "instance": net.dep.center.instance}


async def test_a_routed_request_reaches_its_city_unchanged_with_the_fee(net: Network, card: CardInfo) -> None:
    submission = await net.kiosk.signed(card, copies=2, options={"show_honseki": True, "members": [0, 1]})
    answer = await net.kiosk.submit(submission)

    assert answer.transaction_id == submission.request.transaction_id
    assert answer.envelope == ENVELOPE  # passed back untouched
    assert net.forwarders[KODAIRA].issuances == []
    [(headers, body)] = net.forwarders[NISHITOKYO].issuances
    assert header(headers) == submission.request.transaction_id
    assert body["fee_yen"] == 200
    assert body["chain_id"] == CHAIN
    # The signed request, challenge, certificate and signature go on exactly as the card signed them.
    assert body["request"] == submission.request.model_dump(mode="json")
    assert request_digest(body["request"]) == request_digest(submission.request.signed_form())
    assert base64.b64decode(body["challenge"]) == submission.challenge
    assert base64.b64decode(body["card_certificate"]) == submission.card_certificate
    assert base64.b64decode(body["signature"]) == submission.signature


async def test_honseki_routes_to_the_register_city(deployment: Deployment, tmp_path: Path, card: CardInfo) -> None:
    """本籍地: a Nishitokyo resident's family register in Kodaira goes to Kodaira's forwarder, at its fee.
    (Kodaira's register kinds are opened every day here, so the test does not depend on the weekday.)"""
    catalogue = Catalogue.from_policies(
        (NISHITOKYO, KODAIRA), {KODAIRA: CityPolicy(family_register_hours=DEFAULT_HOURS)}
    )
    async with run_network(deployment, tmp_path, catalogue=catalogue) as net:
        submission = await net.kiosk.signed(card, city=KODAIRA, kind="koseki-zenbu", basis=Basis.HONSEKI)
        await net.kiosk.submit(submission)
        assert net.forwarders[NISHITOKYO].issuances == []
        [(_headers, body)] = net.forwarders[KODAIRA].issuances
        assert body["fee_yen"] == 350
        assert body["request"]["basis"] == "honseki"


async def test_a_challenge_is_single_use(net: Network, card: CardInfo) -> None:
    challenge = await net.kiosk.challenge()
    first = net.kiosk.sign(card, net.kiosk.request(), challenge)
    await net.kiosk.submit(first)
    replay = net.kiosk.sign(card, net.kiosk.request(), challenge)
    with pytest.raises(VerificationError):
        await net.kiosk.submit(replay)
    assert len(net.forwarders[NISHITOKYO].issuances) == 1


async def test_a_challenge_of_another_kiosk_is_refused(net: Network, card: CardInfo) -> None:
    challenge = await net.kiosk.challenge(OTHER_KIOSK)
    stolen = net.kiosk.sign(card, net.kiosk.request(kiosk_id=KIOSK), challenge)
    with pytest.raises(VerificationError):
        await net.kiosk.submit(stolen)
    # The rightful kiosk can still use it.
    await net.kiosk.submit(net.kiosk.sign(card, net.kiosk.request(kiosk_id=OTHER_KIOSK), challenge))


async def test_an_expired_challenge_is_refused(net: Network, card: CardInfo) -> None:
    challenge = await net.kiosk.challenge()
    net.clock.advance(dt.timedelta(minutes=3))
    await net.runtime.revocation.refresh()
    with pytest.raises(VerificationError):
        await net.kiosk.submit(net.kiosk.sign(card, net.kiosk.request(), challenge))


async def test_a_kiosk_of_another_chain_is_refused(net: Network, card: CardInfo) -> None:
    with pytest.raises(AuthorizationError):
        await net.kiosk.challenge(OTHER_CHAIN_KIOSK)
    # A submission claiming the other chain, or naming its kiosk under our chain, is refused too.
    async with net.hq_client("aozora-hq") as aozora:
        answer = await aozora.post_json(
            PATH_CHALLENGES, ChallengeAsk(kiosk_id=OTHER_CHAIN_KIOSK).model_dump(mode="json"), idempotency_key=None
        )
    challenge = base64.b64decode(answer["challenge"])
    claim = net.kiosk.sign(card, net.kiosk.request(kiosk_id=OTHER_CHAIN_KIOSK), challenge, chain_id=OTHER_CHAIN)
    with pytest.raises(AuthorizationError):
        await net.kiosk.submit(claim)
    foreign = net.kiosk.sign(card, net.kiosk.request(kiosk_id=OTHER_CHAIN_KIOSK), challenge, chain_id=CHAIN)
    with pytest.raises(AuthorizationError):
        await net.kiosk.submit(foreign)
    assert net.forwarders[NISHITOKYO].issuances == []


async def test_a_request_changed_after_signing_is_refused(net: Network, card: CardInfo) -> None:
    submission = await net.kiosk.signed(card, copies=1)
    altered_request = submission.request.model_copy(update={"copies": 5})
    altered = submission.model_copy(update={"request": altered_request})
    with pytest.raises(VerificationError):
        await net.kiosk.submit(altered)
    assert net.forwarders[NISHITOKYO].issuances == []


async def test_a_card_of_another_issuer_is_refused(net: Network, card: CardInfo, tmp_path: Path) -> None:
    """A card whose certificate does not chain to this JPKI (another deployment's card) is refused."""
    other = write_sample(tmp_path / "elsewhere")
    init_pki(other)
    foreign_card = enrol_card(other, city_code=NISHITOKYO, pin="4321", path=tmp_path / "foreign.card")
    kiosk = net.kiosk
    request = kiosk.request()
    challenge = await kiosk.challenge()
    signer = type(kiosk)(dep=other, hq=kiosk.hq, clock=kiosk.clock)
    with pytest.raises(VerificationError):
        await kiosk.submit(signer.sign(foreign_card, request, challenge))


async def test_a_card_revoked_a_moment_ago_is_refused_once_the_crl_refresh_ran(net: Network, card: CardInfo) -> None:
    await net.kiosk.submit(await net.kiosk.signed(card))
    number = net.runtime.revocation.crl_number
    revoke_card(net.dep, card.serial, "keyCompromise")
    # Until the refresh, the center answers from its cached CRL (no JPKI round trip per request).
    await net.kiosk.submit(await net.kiosk.signed(card))
    assert net.runtime.revocation.crl_number == number
    await net.runtime.revocation.refresh()
    assert net.runtime.revocation.crl_number is not None
    assert number is not None
    assert net.runtime.revocation.crl_number > number
    with pytest.raises(VerificationError) as caught:
        await net.kiosk.submit(await net.kiosk.signed(card))
    assert "revoked" in caught.value.text_en
    assert len(net.forwarders[NISHITOKYO].issuances) == 2


async def test_stale_revocation_status_is_refused_rather_than_trusted(net: Network, card: CardInfo) -> None:
    # No contact with the JPKI for longer than allowed: refuse.
    net.clock.advance(MAX_STATUS_SILENCE + dt.timedelta(seconds=1))
    submission = await net.kiosk.signed(card)
    with pytest.raises(UpstreamError):
        await net.kiosk.submit(submission)
    # Contact again: accepted again (a new transaction; the first one's challenge is spent).
    await net.runtime.revocation.refresh()
    await net.kiosk.submit(await net.kiosk.signed(card))
    # A CRL past nextUpdate + grace: refused even though the JPKI answers (it serves the same stale CRL).
    net.clock.advance(dt.timedelta(days=8))
    with pytest.raises(UpstreamError):
        await net.runtime.revocation.refresh()
    with pytest.raises(UpstreamError):
        await net.kiosk.submit(await net.kiosk.signed(card))


async def test_closed_hours_are_refused(net: Network, card: CardInfo) -> None:
    evening = net.clock.now() + dt.timedelta(hours=13)  # 23:00 JST the same day
    net.clock.set(evening - dt.timedelta(minutes=1))
    await net.runtime.revocation.refresh()
    await net.kiosk.submit(await net.kiosk.signed(card))
    net.clock.set(evening)
    with pytest.raises(ServiceClosedError):
        await net.kiosk.submit(await net.kiosk.signed(card))


async def test_catalogue_refusals_reach_the_caller(net: Network, card: CardInfo) -> None:
    chiyoda = "131016"  # a real city code, not in this deployment
    with pytest.raises(NotFoundError, match="not participating"):
        await net.kiosk.submit(await net.kiosk.signed(card, city=chiyoda))
    with pytest.raises(NotFoundError, match="does not issue this certificate"):
        await net.kiosk.submit(await net.kiosk.signed(card, city=KODAIRA, kind="juminhyo-kisai"))
    with pytest.raises(NotFoundError):
        await net.kiosk.submit(await net.kiosk.signed(card, kind="passport"))
    with pytest.raises(ValidationError, match="unknown option"):
        await net.kiosk.submit(await net.kiosk.signed(card, options={"show_juminhyo_code": True}))
    with pytest.raises(ValidationError, match="not offered by this city"):
        await net.kiosk.submit(await net.kiosk.signed(card, city=KODAIRA, options={"show_individual_number": True}))
    with pytest.raises(ValidationError, match="basis"):
        await net.kiosk.submit(await net.kiosk.signed(card, basis=Basis.HONSEKI))
    assert net.forwarders[NISHITOKYO].issuances == net.forwarders[KODAIRA].issuances == []
    # Where the city allows it, the individual number may be asked for.
    await net.kiosk.submit(await net.kiosk.signed(card, options={"show_individual_number": True}))


async def test_a_repeated_transaction_is_forwarded_again_without_a_new_challenge(net: Network, card: CardInfo) -> None:
    submission = await net.kiosk.signed(card)
    first = await net.kiosk.submit(submission)
    again = await net.kiosk.submit(submission)
    assert again == first
    assert [body["request"]["transaction_id"] for _h, body in net.forwarders[NISHITOKYO].issuances] == [
        submission.request.transaction_id
    ] * 2


async def test_a_transaction_id_reused_for_another_request_is_refused(net: Network, card: CardInfo) -> None:
    submission = await net.kiosk.signed(card, copies=1)
    await net.kiosk.submit(submission)
    other = await net.kiosk.signed(card, copies=3, transaction_id=submission.request.transaction_id)
    with pytest.raises(TransactionConflictError, match="another request"):
        await net.kiosk.submit(other)
    assert len(net.forwarders[NISHITOKYO].issuances) == 1


@pytest.mark.parametrize(("mode", "error"), [("ineligible", EligibilityError), ("boom", UpstreamError)])
async def test_an_upstream_refusal_or_failure_aborts_the_transaction(
    net: Network, card: CardInfo, mode: str, error: type[Exception]
) -> None:
    net.forwarders[NISHITOKYO].mode = mode
    submission = await net.kiosk.signed(card)
    with pytest.raises(error):
        await net.kiosk.submit(submission)
    line = await _line(net, submission.request.transaction_id)
    assert line.status.value == "failed"
    assert line.amount_yen == 0
    # The kiosk cannot revive an aborted transaction by sending it again.
    net.forwarders[NISHITOKYO].mode = "ok"
    with pytest.raises(TransactionConflictError, match="ended"):
        await net.kiosk.submit(submission)
    assert len(net.forwarders[NISHITOKYO].issuances) == 1


async def test_an_unreachable_city_aborts_the_transaction(net: Network, card: CardInfo) -> None:
    await net.forwarder_servers[NISHITOKYO].stop()
    submission = await net.kiosk.signed(card)
    with pytest.raises(UpstreamError):
        await net.kiosk.submit(submission)
    assert (await _line(net, submission.request.transaction_id)).status.value == "failed"


@pytest.mark.parametrize("mode", ["other_transaction", "other_fee"])
async def test_an_answer_for_another_transaction_stops_the_city(net: Network, card: CardInfo, mode: str) -> None:
    net.forwarders[NISHITOKYO].mode = mode
    submission = await net.kiosk.signed(card)
    with pytest.raises(UpstreamError, match="does not match"):
        await net.kiosk.submit(submission)
    assert (await _line(net, submission.request.transaction_id)).status.value == "failed"
    net.forwarders[NISHITOKYO].mode = "ok"
    suspension = find_suspension(net.dep, NISHITOKYO)
    assert suspension is not None
    assert suspension.transaction_id == submission.request.transaction_id
    with pytest.raises(ServiceClosedError, match="suspended"):
        await net.kiosk.submit(await net.kiosk.signed(card))
    # Other cities go on; the city resumes only when an operator says so.
    await net.kiosk.submit(await net.kiosk.signed(card, city=KODAIRA))
    assert resume_city(net.dep, NISHITOKYO)
    await net.kiosk.submit(await net.kiosk.signed(card))


async def _line(net: Network, transaction_id: str) -> SettlementLine:
    engine = make_engine(net.dep.database_url(net.dep.center.database))
    try:
        line = SqlSettlementStore(engine=engine).find_line(transaction_id)
    finally:
        engine.dispose()
    assert line is not None
    return line


async def test_concurrent_requests_each_get_their_own_answer(net: Network, enrol: Callable[..., CardInfo]) -> None:
    cards = [enrol() for _ in range(3)]
    submissions = [await net.kiosk.signed(cards[i % 3], copies=1 + i % 3) for i in range(12)]
    answers = await asyncio.gather(*(net.kiosk.submit(s) for s in submissions))
    assert [a.transaction_id for a in answers] == [s.request.transaction_id for s in submissions]
    assert len({a.document_serial for a in answers}) == len(answers)
