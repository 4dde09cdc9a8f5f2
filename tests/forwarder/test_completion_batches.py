"""Completion batches at the forwarder: each report routed as a single one, one batch per issuer, results passed
back as they came, an issuer down or answering for another batch leaves its reports to retry."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import Any

import pytest
from tests.wire.wire_support import CertFactory

from yakuba.config import Role
from yakuba.errors import AuthorizationError, ValidationError
from yakuba.forwarder import CounterStore
from yakuba.wire import IDEMPOTENCY_KEY_HEADER, ServiceClient, client_session
from yakuba.wire.messages import (
    MAX_COMPLETION_BATCH,
    PATH_COMPLETION_BATCHES,
    PATH_COMPLETIONS,
    CompletionBatch,
    CompletionBatchAnswer,
    CompletionResult,
    Outcome,
    TaggedCompletion,
)

from .conftest import CITY, JUKI, KOSEKI, NOW, OTHER_CITY, Chain, completion_of, submission


def _report(kind: str, outcome: Outcome = Outcome.PRINTED, *, city: str = CITY) -> TaggedCompletion:
    return completion_of(submission(kind=kind, city=city), outcome)


def _batch(*reports: TaggedCompletion) -> CompletionBatch:
    return CompletionBatch(batch_id=f"batch-{secrets.token_hex(16)}", completions=list(reports))


async def _send(client: ServiceClient, batch: CompletionBatch) -> CompletionBatchAnswer:
    body = await client.post_json(
        PATH_COMPLETION_BATCHES, batch.model_dump(mode="json"), idempotency_key=batch.batch_id
    )
    answer = CompletionBatchAnswer.model_validate(body)
    assert answer.matches(batch)
    return answer


def _closed(report: TaggedCompletion, closed: bool = True) -> CompletionResult:
    return CompletionResult(transaction_id=report.transaction_id, closed=closed)


def _error(report: TaggedCompletion, code: str, *, retry: bool = False) -> CompletionResult:
    return CompletionResult(transaction_id=report.transaction_id, error=code, retry=retry)


def _counts(chain: Chain) -> dict[tuple[str, str], int]:
    store = CounterStore.from_url(chain.dep.database_url(chain.dep.city(CITY).forwarder.database))
    try:
        return {(r.kind, r.outcome): r.count for r in store.fetch_counts(day=NOW.date())}
    finally:
        store.dispose()


def _sent(chain: Chain, issuer: str) -> list[list[str]]:
    return [[c.transaction_id for c in batch.completions] for batch, _key in chain.seen[issuer].batches]


@pytest.mark.usefixtures("clean_counters")
async def test_a_mixed_batch_is_split_by_issuer_and_answered_in_order(chain: Chain) -> None:
    juki, koseki, abandoned = _report("juminhyo"), _report("fuhyo"), _report("inkan", Outcome.ABANDONED)
    elsewhere, unknown, refused = _report("juminhyo", city=OTHER_CITY), _report("passport"), _report("kazei")
    repeated = _report("koseki-zenbu")
    chain.seen[JUKI].refuse[refused.transaction_id] = "not_found"
    chain.seen[KOSEKI].completions.append(repeated.transaction_id)  # closed by an earlier report
    batch = _batch(juki, elsewhere, koseki, unknown, refused, abandoned, repeated)

    answer = await _send(chain.center, batch)

    assert answer.results == [
        _closed(juki),
        _error(elsewhere, "wrong_city"),  # 1: never passed on
        _closed(koseki),
        _error(unknown, "kind_not_offered"),  # 2
        _error(refused, "not_found"),  # 5: as the issuer answered it
        _closed(abandoned),
        _closed(repeated, False),
    ]
    # 3: one batch per issuer, under the batch's own id, with its reports in the batch's order.
    assert _sent(chain, JUKI) == [[juki.transaction_id, refused.transaction_id, abandoned.transaction_id]]
    assert _sent(chain, KOSEKI) == [[koseki.transaction_id, repeated.transaction_id]]
    assert {key for issuer in (JUKI, KOSEKI) for _b, key in chain.seen[issuer].batches} == {batch.batch_id}
    # 6: counted as single reports are.
    assert _counts(chain) == {
        ("juminhyo", "printed"): 1,
        ("fuhyo", "printed"): 1,
        ("inkan", "abandoned"): 1,
        ("juminhyo", "completion_wrong_city"): 1,
        ("passport", "completion_kind_not_offered"): 1,
        ("kazei", "completion_not_found"): 1,
    }


async def test_an_issuer_down_leaves_only_its_reports_to_retry(chain: Chain) -> None:
    juki, koseki = _report("juminhyo"), _report("koseki-kojin")
    await chain.issuers[KOSEKI].stop()
    batch = _batch(juki, koseki)
    answer = await _send(chain.center, batch)
    assert answer.results == [_closed(juki), _error(koseki, "upstream_error", retry=True)]
    assert chain.seen[KOSEKI].completions == []


async def test_an_issuer_failing_the_whole_batch_leaves_its_reports_to_retry(chain: Chain) -> None:
    juki, koseki = _report("juminhyo"), _report("koseki-kojin")
    chain.seen[JUKI].fail_batches = True
    answer = await _send(chain.center, _batch(juki, koseki))
    assert answer.results == [_error(juki, "upstream_error", retry=True), _closed(koseki)]


async def test_an_answer_for_another_batch_is_never_passed_back(chain: Chain, caplog: pytest.LogCaptureFixture) -> None:
    reports = [_report("juminhyo"), _report("inkan")]
    chain.seen[JUKI].answer_for_another = True
    batch = _batch(*reports)
    with caplog.at_level(logging.ERROR, logger="yakuba.forwarder"):
        answer = await _send(chain.center, batch)
    assert answer.results == [_error(report, "upstream_error", retry=True) for report in reports]
    assert any("integrity" in r.getMessage() and batch.batch_id in r.getMessage() for r in caplog.records)


async def _post(chain: Chain, body: Any, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    url = chain.forwarder.base_url + PATH_COMPLETION_BATCHES
    async with chain.session.post(url, json=body, headers=headers) as response:
        return response.status, await response.json()


async def test_bad_requests_are_refused_whole_and_not_passed_on(chain: Chain) -> None:
    report = _report("juminhyo")
    batch = _batch(report)
    body = batch.model_dump(mode="json")
    key = {IDEMPOTENCY_KEY_HEADER: batch.batch_id}
    cases = [
        (body | {"completions": body["completions"] * 2}, key),  # one transaction twice
        (body | {"completions": [body["completions"][0]] * (MAX_COMPLETION_BATCH + 1)}, key),
        (body, {}),
        (body, {IDEMPOTENCY_KEY_HEADER: report.transaction_id}),
        (body, {IDEMPOTENCY_KEY_HEADER: f"batch-{secrets.token_hex(16)}"}),
    ]
    for sent, headers in cases:
        status, answer = await _post(chain, sent, headers)
        assert (status, answer["error"]) == (400, "invalid_input"), headers
        assert set(answer) == {"error", "message", "message_ja"}
    with pytest.raises(ValidationError, match="batch id"):
        await chain.center.post_json(PATH_COMPLETION_BATCHES, body, idempotency_key=report.transaction_id)
    assert chain.seen[JUKI].batches == chain.seen[KOSEKI].batches == []


async def test_the_single_completion_route_is_gone(chain: Chain) -> None:
    """The center sends completions on only in batches: the one-report route answers 404 and reaches no issuer."""
    report = _report("juminhyo")
    url = chain.forwarder.base_url + PATH_COMPLETIONS
    headers = {IDEMPOTENCY_KEY_HEADER: report.transaction_id}
    async with chain.session.post(url, json=report.model_dump(mode="json"), headers=headers) as response:
        status, answer = response.status, await response.json()
    assert (status, answer["error"]) == (404, "not_found")
    assert chain.seen[JUKI].batches == chain.seen[KOSEKI].batches == []
    assert chain.seen[JUKI].completions == []


async def test_only_the_center_may_send_batches(chain: Chain, tmp_path: Path) -> None:
    identity = CertFactory(chain.dep, tmp_path).issue(
        name="impostor", role=Role.ISSUER, instance=JUKI, segment_id="lgwan"
    )
    async with client_session(identity, expected_role=Role.FORWARDER) as session:
        impostor = ServiceClient(session=session, base_url=chain.forwarder.base_url, expected_role=Role.FORWARDER)
        with pytest.raises(AuthorizationError):
            await _send(impostor, _batch(_report("juminhyo")))
    assert chain.seen[JUKI].batches == []


async def test_a_full_batch_goes_in_one_exchange_per_issuer(chain: Chain) -> None:
    kinds = ("juminhyo", "koseki-zenbu")
    reports = [_report(kinds[i % 2]) for i in range(MAX_COMPLETION_BATCH)]
    answer = await _send(chain.center, _batch(*reports))
    assert answer.results == [_closed(report) for report in reports]
    half = MAX_COMPLETION_BATCH // 2
    assert [len(sent) for sent in _sent(chain, JUKI)] == [half]
    assert [len(sent) for sent in _sent(chain, KOSEKI)] == [half]
