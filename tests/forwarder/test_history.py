"""The forwarder's history route: every issuer of the city is asked, all envelopes come back, or none do."""

from __future__ import annotations

import pytest

from yakuba.errors import UpstreamError, ValidationError, YakubaError
from yakuba.issuer.errors import CardNotRegisteredError
from yakuba.wire.messages import PATH_HISTORY, HistoryAnswer, TaggedHistorySubmission

from .conftest import JUKI, KOSEKI, OTHER_CITY, Chain, history_submission


async def send(chain: Chain, body: TaggedHistorySubmission, key: str | None = None) -> HistoryAnswer:
    answer = await chain.center.post_json(
        PATH_HISTORY, body.model_dump(mode="json"), idempotency_key=key or body.request.transaction_id
    )
    return HistoryAnswer.model_validate(answer)


async def test_every_issuer_is_asked_and_every_envelope_returned(chain: Chain) -> None:
    body = history_submission()
    answer = await send(chain, body)
    tx = body.request.transaction_id
    assert sorted(answer.envelopes) == sorted([b"YKSL\x01" + JUKI.encode(), b"YKSL\x01" + KOSEKI.encode()])
    assert chain.seen[JUKI].histories == [(tx, tx)]
    assert chain.seen[KOSEKI].histories == [(tx, tx)]


async def test_one_issuer_refusing_fails_the_whole_history(chain: Chain) -> None:
    chain.seen[KOSEKI].refuse_history = True
    with pytest.raises(CardNotRegisteredError):
        await send(chain, history_submission())


async def test_a_crossed_answer_fails_the_whole_history(chain: Chain) -> None:
    chain.seen[JUKI].answer_for_another = True
    with pytest.raises(UpstreamError):
        await send(chain, history_submission())


async def test_another_city_and_a_wrong_key_are_refused(chain: Chain) -> None:
    with pytest.raises(YakubaError) as wrong_city:
        await send(chain, history_submission(city=OTHER_CITY))
    assert 400 <= wrong_city.value.http_status < 500
    with pytest.raises(ValidationError):
        await send(chain, history_submission(), key="tx-" + "0" * 32)
    assert chain.seen[JUKI].histories == []


@pytest.mark.parametrize("data", [b"{not json", b"", b"[]", b'{"request": 1}', b'{"request": {}, "chain_id": "x"}'])
async def test_malformed_history_bodies_are_400(chain: Chain, data: bytes) -> None:
    headers = {"Content-Type": "application/json", "Idempotency-Key": "tx-" + "0" * 32}
    async with chain.session.post(chain.forwarder.base_url + PATH_HISTORY, data=data, headers=headers) as response:
        assert response.status == 400
