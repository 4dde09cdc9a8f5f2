"""Routing by kind to the system holding it, refusal of other cities, answers passed back, counters only."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import inspect
from tests.wire.batch_support import complete_one

from yakuba.documents import DocumentKind
from yakuba.errors import EligibilityError, UpstreamError, ValidationError
from yakuba.forwarder import SYSTEM_OF_KIND, CounterStore, KindNotOfferedError, WrongCityError
from yakuba.forwarder.store import counters
from yakuba.wire.messages import PATH_ISSUANCES, CompletionResult, IssuanceAnswer, Outcome

from .conftest import CITY, JUKI, KOSEKI, NOW, OTHER_CITY, REFUSED_KIND, Chain, completion_of, submission

EXPECTED_ISSUER = {
    "juminhyo": JUKI,
    "juminhyo-kisai": JUKI,
    "inkan": JUKI,
    "kazei": JUKI,
    "shotoku": JUKI,
    "koseki-zenbu": KOSEKI,
    "koseki-kojin": KOSEKI,
    "fuhyo": KOSEKI,
}


def test_the_routing_table_covers_exactly_the_document_kinds() -> None:
    assert set(SYSTEM_OF_KIND) == {kind.value for kind in DocumentKind}
    assert {kind: f"nishitokyo-issuer-{system}" for kind, system in SYSTEM_OF_KIND.items()} == EXPECTED_ISSUER


async def _issue(chain: Chain, kind: str, *, city: str = CITY) -> tuple[str, IssuanceAnswer]:
    sub = submission(kind=kind, city=city)
    body = await chain.center.post_json(
        PATH_ISSUANCES, sub.model_dump(mode="json"), idempotency_key=sub.request.transaction_id
    )
    return sub.request.transaction_id, IssuanceAnswer.model_validate(body)


@pytest.mark.parametrize("kind", sorted(EXPECTED_ISSUER))
async def test_each_kind_goes_to_the_issuer_holding_it(kind: str, chain: Chain) -> None:
    if kind == REFUSED_KIND:
        with pytest.raises(EligibilityError):
            await _issue(chain, kind)
        transaction_id = chain.seen[JUKI].issuances[-1][0]
    else:
        transaction_id, answer = await _issue(chain, kind)
        assert answer.transaction_id == transaction_id
        assert answer.issuer_id == EXPECTED_ISSUER[kind]
    target, other = EXPECTED_ISSUER[kind], ({JUKI, KOSEKI} - {EXPECTED_ISSUER[kind]}).pop()
    assert chain.seen[target].issuances == [(transaction_id, transaction_id)]  # with its idempotency key
    assert chain.seen[other].issuances == []


async def test_a_request_for_another_city_is_refused_and_not_passed_on(chain: Chain) -> None:
    with pytest.raises(WrongCityError) as caught:
        await _issue(chain, "juminhyo", city=OTHER_CITY)
    assert caught.value.code == "wrong_city"
    assert chain.seen[JUKI].issuances == []
    assert chain.seen[KOSEKI].issuances == []


async def test_an_unknown_kind_is_refused(chain: Chain) -> None:
    with pytest.raises(KindNotOfferedError):
        await _issue(chain, "mystery-kind")


async def test_an_answer_for_another_transaction_is_never_passed_back(
    chain: Chain, caplog: pytest.LogCaptureFixture
) -> None:
    chain.seen[JUKI].answer_for_another = True
    with caplog.at_level(logging.ERROR, logger="yakuba.forwarder"), pytest.raises(UpstreamError):
        await _issue(chain, "juminhyo")
    assert any("integrity" in r.getMessage() for r in caplog.records)


async def test_completions_are_routed_like_their_issuance(chain: Chain) -> None:
    sub = submission(kind="fuhyo")
    report = completion_of(sub)
    first = await complete_one(chain.center, report)
    assert first == CompletionResult(transaction_id=sub.request.transaction_id, closed=True)
    again = await complete_one(chain.center, report)
    assert again.closed is False
    assert chain.seen[KOSEKI].completions == [sub.request.transaction_id] * 2
    assert chain.seen[JUKI].completions == []


async def test_the_idempotency_key_must_be_the_transaction_id(chain: Chain) -> None:
    sub = submission(kind="juminhyo")
    with pytest.raises(ValidationError, match="Idempotency-Key"):
        await chain.center.post_json(PATH_ISSUANCES, sub.model_dump(mode="json"), idempotency_key="tx-" + "0" * 32)
    assert chain.seen[JUKI].issuances == []


@pytest.mark.usefixtures("clean_counters")
async def test_it_stores_counters_and_nothing_else(chain: Chain, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    subs = []
    for kind in ("juminhyo", "juminhyo", "koseki-zenbu"):
        transaction_id, _answer = await _issue(chain, kind)
        subs.append(transaction_id)
    with pytest.raises(EligibilityError):
        await _issue(chain, REFUSED_KIND)
    with pytest.raises(WrongCityError):
        await _issue(chain, "inkan", city=OTHER_CITY)
    sub = submission(kind="juminhyo")
    report = completion_of(sub, Outcome.ABANDONED)
    assert (await complete_one(chain.center, report)).closed is True

    store = CounterStore.from_url(chain.dep.database_url(chain.dep.city(CITY).forwarder.database))
    try:
        rows = {(r.day, r.kind, r.outcome): r.count for r in store.fetch_counts()}
        tables = set(inspect(store.engine).get_table_names())
    finally:
        store.dispose()
    day = NOW.date()
    assert rows == {
        (day, "juminhyo", "issued"): 2,
        (day, "koseki-zenbu", "issued"): 1,
        (day, REFUSED_KIND, "not_eligible"): 1,
        (day, "inkan", "wrong_city"): 1,
        (day, "juminhyo", "abandoned"): 1,
    }
    assert tables == {"forwarder_counters", "forwarder_alembic_version"}
    assert set(counters.c.keys()) == {"day", "kind", "outcome", "count"}
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("yakuba.forwarder"))
    assert subs[0] in logged  # transaction ids are logged: they are the relays' join key
    assert "J229-00000001" not in logged  # document serials are not
    assert "envelope" not in logged


async def test_health_answers_the_center(chain: Chain) -> None:
    async with chain.session.get(chain.forwarder.base_url + "/v1/health") as response:
        assert response.status == 200
        assert await response.json() == {"status": "ok", "role": "forwarder", "instance": "nishitokyo-forwarder"}
