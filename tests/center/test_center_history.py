"""The center's history route: checked like an issuance, routed to the city, no settlement, 4xx on bad input."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from yakuba.errors import AuthorizationError, NotFoundError, UpstreamError, ValidationError, YakubaError
from yakuba.pki.card import CardInfo, VirtualCardReader
from yakuba.wire import IDEMPOTENCY_KEY_HEADER, TransactionKey
from yakuba.wire.card_auth import card_auth_digest
from yakuba.wire.digest import request_digest
from yakuba.wire.messages import PATH_HISTORY, HistoryAnswer, HistoryRequest, TaggedHistorySubmission

from .center_support import CHAIN, KIOSK, NISHITOKYO, PIN, header
from .conftest import Network


async def signed_history(
    net: Network, card: CardInfo, *, city: str = NISHITOKYO, kiosk_id: str = KIOSK, chain_id: str = CHAIN
) -> TaggedHistorySubmission:
    request = HistoryRequest(
        transaction_id=f"tx-{uuid.uuid4().hex}",
        kiosk_id=kiosk_id,
        city=city,
        transaction_key=TransactionKey.generate().public_bytes(),
        requested_at=net.clock.now().isoformat(),
    )
    challenge = await net.kiosk.challenge(kiosk_id)
    with VirtualCardReader.open(net.dep, path=card.path) as reader:
        reader.select_jpki_ap()
        certificate = reader.read_auth_certificate()
        reader.verify_pin(PIN)
        signature = reader.sign_digest(
            card_auth_digest(
                challenge=challenge, request_digest=request_digest(request.signed_form()), kiosk_id=kiosk_id
            )
        )
    return TaggedHistorySubmission(
        request=request, challenge=challenge, card_certificate=certificate, signature=signature, chain_id=chain_id
    )


async def send(net: Network, submission: TaggedHistorySubmission) -> HistoryAnswer:
    body = await net.kiosk.hq.post_json(
        PATH_HISTORY, submission.model_dump(mode="json"), idempotency_key=submission.request.transaction_id
    )
    return HistoryAnswer.model_validate(body)


async def test_a_history_request_is_routed_unchanged_and_settles_nothing(net: Network, card: CardInfo) -> None:
    submission = await signed_history(net, card)
    answer = await send(net, submission)
    assert answer.transaction_id == submission.request.transaction_id
    assert len(answer.envelopes) == 2
    ((headers, body),) = net.forwarders[NISHITOKYO].histories
    assert header(headers) == submission.request.transaction_id
    assert body == submission.model_dump(mode="json")
    assert net.forwarders[NISHITOKYO].issuances == []
    month = net.clock.now().strftime("%Y-%m")
    assert await net.runtime.service.settlement(month) == []


async def test_a_history_request_cannot_be_replayed(net: Network, card: CardInfo) -> None:
    submission = await signed_history(net, card)
    await send(net, submission)
    with pytest.raises(YakubaError) as replayed:
        await send(net, submission)
    assert 400 <= replayed.value.http_status < 500
    assert len(net.forwarders[NISHITOKYO].histories) == 1


async def test_an_altered_request_or_another_chain_is_refused(net: Network, card: CardInfo) -> None:
    submission = await signed_history(net, card)
    altered = submission.model_copy(
        update={"request": submission.request.model_copy(update={"requested_at": "2000-01-01T00:00:00+09:00"})}
    )
    with pytest.raises(YakubaError) as refused:
        await send(net, altered)
    assert 400 <= refused.value.http_status < 500
    other_chain = await signed_history(net, card, chain_id="aozora")
    with pytest.raises(AuthorizationError):
        await send(net, other_chain)
    assert net.forwarders[NISHITOKYO].histories == []


async def test_an_unknown_city_is_refused(net: Network, card: CardInfo) -> None:
    submission = await signed_history(net, card, city="999999")
    with pytest.raises(NotFoundError):
        await send(net, submission)


async def test_a_crossed_answer_is_refused(net: Network, card: CardInfo) -> None:
    net.forwarders[NISHITOKYO].mode = "other_transaction"
    with pytest.raises(UpstreamError):
        await send(net, await signed_history(net, card))


@pytest.mark.parametrize(
    "data", [b"{not json", b"", b"[]", b'{"request": 1}', b'{"request": {"v": 1}, "chain_id": "midori"}']
)
async def test_malformed_history_bodies_are_400(net: Network, data: bytes) -> None:
    headers = {"Content-Type": "application/json", IDEMPOTENCY_KEY_HEADER: "tx-" + "0" * 32}
    async with net.hq_session.post(net.center.base_url + PATH_HISTORY, data=data, headers=headers) as response:
        assert response.status == 400
        body: dict[str, Any] = await response.json()
    assert set(body) == {"error", "message", "message_ja"}


async def test_the_key_must_be_the_transaction_id(net: Network, card: CardInfo) -> None:
    submission = await signed_history(net, card)
    with pytest.raises(ValidationError):
        await net.kiosk.hq.post_json(PATH_HISTORY, submission.model_dump(mode="json"), idempotency_key="tx-" + "1" * 32)
