"""Completion batches at the center: each report judged as a single one, one batch per city, lines closed only
when the city acknowledged them, a city down or answering for another batch leaves everything retryable."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.wire.wire_support import CertFactory

from yakuba.center import LineStatus, SettlementLine
from yakuba.center.ports import LineClosing
from yakuba.center.store import SqlSettlementStore
from yakuba.config import Role
from yakuba.database import make_engine
from yakuba.errors import AuthorizationError, ValidationError
from yakuba.pki import load_service_identity
from yakuba.pki.card import CardInfo
from yakuba.wire import IDEMPOTENCY_KEY_HEADER, Server, ServiceClient, client_session
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

from .center_support import CHAIN, KIOSK, KODAIRA, NISHITOKYO, OTHER_KIOSK, forwarder_app, header
from .conftest import Network

FEE = 300


@contextlib.contextmanager
def _store(net: Network) -> Iterator[SqlSettlementStore]:
    engine = make_engine(net.dep.database_url(net.dep.center.database))
    try:
        yield SqlSettlementStore(engine=engine)
    finally:
        engine.dispose()


def _open(
    net: Network,
    *,
    city: str = NISHITOKYO,
    kiosk_id: str = KIOSK,
    kind: str = "juminhyo",
    copies: int = 2,
    status: LineStatus = LineStatus.PENDING,
) -> SettlementLine:
    """A line as `submit` opens it (or as a failed transaction leaves it), written straight to the store."""
    now = net.clock.now()
    line = SettlementLine(
        transaction_id=f"tx-{uuid.uuid4().hex}",
        request_digest=hashlib.sha256(b"request").digest(),
        challenge_hash=hashlib.sha256(b"challenge").digest(),
        day=now.date(),
        city=city,
        chain_id=CHAIN,
        kiosk_id=kiosk_id,
        kind=kind,
        basis="residence",
        copies=copies,
        fee_yen=FEE,
        created_at=now,
        status=status,
        failure="not_eligible" if status is LineStatus.FAILED else None,
        closed_at=now if status is LineStatus.FAILED else None,
    )
    with _store(net) as store:
        store.open_line(line)
    return line


def _report(
    line: SettlementLine, outcome: Outcome = Outcome.PRINTED, *, printed: int = 1, voided: int = 0, **changes: Any
) -> TaggedCompletion:
    fields: dict[str, Any] = {
        "transaction_id": line.transaction_id,
        "outcome": outcome,
        "copies_printed": printed,
        "copies_voided": voided,
        "chain_id": line.chain_id,
        "kiosk_id": line.kiosk_id,
        "city": line.city,
        "kind": line.kind,
    }
    return TaggedCompletion(**(fields | changes))


def _batch(*reports: TaggedCompletion) -> CompletionBatch:
    return CompletionBatch(batch_id=f"batch-{uuid.uuid4().hex}", completions=list(reports))


async def _send(client: ServiceClient, batch: CompletionBatch) -> CompletionBatchAnswer:
    body = await client.post_json(
        PATH_COMPLETION_BATCHES, batch.model_dump(mode="json"), idempotency_key=batch.batch_id
    )
    answer = CompletionBatchAnswer.model_validate(body)
    assert answer.matches(batch)
    return answer


def _lines(net: Network, *lines: SettlementLine) -> list[SettlementLine]:
    with _store(net) as store:
        found = store.find_lines([line.transaction_id for line in lines])
    return [found[line.transaction_id] for line in lines]


def _closed(tx: str, closed: bool) -> CompletionResult:
    return CompletionResult(transaction_id=tx, closed=closed)


def _error(tx: str, code: str, *, retry: bool = False) -> CompletionResult:
    return CompletionResult(transaction_id=tx, error=code, retry=retry)


async def test_a_mixed_batch_gets_one_result_per_report_in_order(net: Network) -> None:
    printed, abandoned, closed_before, mismatched, too_many = (_open(net) for _ in range(5))
    failed = _open(net, status=LineStatus.FAILED)
    failed_printed = _open(net, status=LineStatus.FAILED)
    with _store(net) as store:
        first = LineClosing(
            transaction_id=closed_before.transaction_id,
            outcome="printed",
            copies_printed=1,
            copies_voided=0,
            amount_yen=FEE,
        )
        assert store.close_lines([first], at=net.clock.now()) == {closed_before.transaction_id}
    unknown = _report(_open(net)).model_copy(update={"transaction_id": f"tx-{uuid.uuid4().hex}"})
    batch = _batch(
        _report(printed, printed=2),
        _report(abandoned, Outcome.ABANDONED, printed=0),
        _report(closed_before),
        _report(mismatched, kind="inkan"),
        unknown,
        _report(too_many, printed=2, voided=1),
        _report(failed, Outcome.ABANDONED, printed=0),
        _report(failed_printed),
    )

    answer = await _send(net.kiosk.hq, batch)

    assert answer.results == [
        _closed(printed.transaction_id, True),
        _closed(abandoned.transaction_id, True),
        _closed(closed_before.transaction_id, False),  # 4: already closed, not forwarded
        _error(mismatched.transaction_id, "verification_failed"),  # 2
        _error(unknown.transaction_id, "not_found"),  # 2
        _error(too_many.transaction_id, "verification_failed"),  # 3
        _closed(failed.transaction_id, False),  # 5: forwarded to close the issuer's log, never charged
        _error(failed_printed.transaction_id, "verification_failed"),  # 5: a cancelled transaction never printed
    ]
    rows = {line.transaction_id: line for line in _lines(net, printed, abandoned, mismatched, too_many, failed)}
    assert (rows[printed.transaction_id].status, rows[printed.transaction_id].amount_yen) == (
        LineStatus.CLOSED,
        2 * FEE,
    )
    assert (rows[abandoned.transaction_id].status, rows[abandoned.transaction_id].amount_yen) == (LineStatus.CLOSED, 0)
    assert rows[mismatched.transaction_id].status is LineStatus.PENDING
    assert rows[too_many.transaction_id].status is LineStatus.PENDING
    assert (rows[failed.transaction_id].status, rows[failed.transaction_id].amount_yen) == (LineStatus.FAILED, 0)
    # One exchange with the city, under the batch's id, carrying only what the city must close.
    [(headers, sent)] = net.forwarders[NISHITOKYO].batches
    assert header(headers) == batch.batch_id == sent.batch_id
    assert [c.transaction_id for c in sent.completions] == [
        printed.transaction_id,
        abandoned.transaction_id,
        failed.transaction_id,
    ]


async def test_a_retried_batch_changes_nothing(net: Network) -> None:
    line = _open(net)
    batch = _batch(_report(line, printed=2))
    assert (await _send(net.kiosk.hq, batch)).results == [_closed(line.transaction_id, True)]
    again = await _send(net.kiosk.hq, batch.model_copy(update={"batch_id": f"batch-{uuid.uuid4().hex}"}))
    assert again.results == [_closed(line.transaction_id, False)]
    assert _lines(net, line)[0].amount_yen == 2 * FEE
    assert len(net.forwarders[NISHITOKYO].batches) == 1  # a closed line is not forwarded again


async def test_one_batch_per_city_and_a_city_down_leaves_only_its_reports_to_retry(net: Network) -> None:
    here, there = _open(net), _open(net, city=KODAIRA, kind="inkan")
    await net.forwarder_servers[NISHITOKYO].stop()
    batch = _batch(_report(here), _report(there))

    answer = await _send(net.kiosk.hq, batch)

    assert answer.results == [
        _error(here.transaction_id, "upstream_error", retry=True),
        _closed(there.transaction_id, True),
    ]
    assert [line.status for line in _lines(net, here, there)] == [LineStatus.PENDING, LineStatus.CLOSED]
    assert [c.transaction_id for _h, sent in net.forwarders[KODAIRA].batches for c in sent.completions] == [
        there.transaction_id
    ]

    # The city comes back on its port: the same batch, sent again, closes the rest.
    seen = net.forwarders[NISHITOKYO]
    identity = load_service_identity(net.dep, instance=net.dep.city(NISHITOKYO).forwarder.instance, segment_id="lgwan")
    port = net.dep.city(NISHITOKYO).forwarder.port
    async with Server(app=forwarder_app(seen), identity=identity, port=port):
        again = await _send(net.kiosk.hq, batch)
    assert again.results == [_closed(here.transaction_id, True), _closed(there.transaction_id, False)]
    assert [(line.status, line.amount_yen) for line in _lines(net, here, there)] == [
        (LineStatus.CLOSED, FEE),
        (LineStatus.CLOSED, FEE),
    ]


async def test_a_city_failing_the_whole_batch_leaves_its_reports_to_retry(net: Network) -> None:
    line = _open(net)
    net.forwarders[NISHITOKYO].mode = "boom"
    answer = await _send(net.kiosk.hq, _batch(_report(line)))
    assert answer.results == [_error(line.transaction_id, "upstream_error", retry=True)]
    assert _lines(net, line)[0].status is LineStatus.PENDING


async def test_an_answer_for_another_batch_closes_nothing(net: Network, caplog: pytest.LogCaptureFixture) -> None:
    lines = [_open(net) for _ in range(3)]
    batch = _batch(*(_report(line) for line in lines))
    net.forwarders[NISHITOKYO].mode = "other_batch"
    with caplog.at_level(logging.ERROR, logger="yakuba.center"):
        answer = await _send(net.kiosk.hq, batch)
    assert answer.results == [_error(line.transaction_id, "upstream_error", retry=True) for line in lines]
    assert {line.status for line in _lines(net, *lines)} == {LineStatus.PENDING}
    assert any(
        "integrity" in record.getMessage() and batch.batch_id in record.getMessage() for record in caplog.records
    )

    # Sent again once the city answers properly: the city already closed them (closed=false there), the center
    # closes its lines now.
    net.forwarders[NISHITOKYO].mode = "ok"
    again = await _send(net.kiosk.hq, batch)
    assert again.results == [_closed(line.transaction_id, True) for line in lines]


async def test_a_result_from_the_city_is_passed_back_as_it_came(net: Network) -> None:
    refused, fine = _open(net), _open(net)
    net.forwarders[NISHITOKYO].refuse[refused.transaction_id] = "transaction_closed"
    answer = await _send(net.kiosk.hq, _batch(_report(refused), _report(fine)))
    assert answer.results == [_error(refused.transaction_id, "transaction_closed"), _closed(fine.transaction_id, True)]
    assert [line.status for line in _lines(net, refused, fine)] == [LineStatus.PENDING, LineStatus.CLOSED]


async def test_reports_of_real_transactions_close_like_single_ones(net: Network, card: CardInfo) -> None:
    submissions = [await net.kiosk.signed(card, copies=2, kiosk_id=kiosk) for kiosk in (KIOSK, OTHER_KIOSK)]
    for submission in submissions:
        await net.kiosk.submit(submission)
    reports = [
        TaggedCompletion(
            transaction_id=s.request.transaction_id,
            outcome=Outcome.PRINTED,
            copies_printed=2,
            copies_voided=0,
            chain_id=s.chain_id,
            kiosk_id=s.request.kiosk_id,
            city=s.request.city,
            kind=s.request.kind,
        )
        for s in submissions
    ]
    answer = await _send(net.kiosk.hq, _batch(*reports))
    assert [r.closed for r in answer.results] == [True, True]
    with _store(net) as store:
        found = store.find_lines([r.transaction_id for r in reports])
    assert {(line.status, line.amount_yen) for line in found.values()} == {(LineStatus.CLOSED, 400)}


async def test_another_chains_hq_closes_nothing_of_ours(net: Network) -> None:
    line = _open(net)
    async with net.hq_client("aozora-hq") as aozora:
        answer = await _send(aozora, _batch(_report(line)))
    assert answer.results == [_error(line.transaction_id, "forbidden")]
    assert _lines(net, line)[0].status is LineStatus.PENDING
    assert net.forwarders[NISHITOKYO].batches == []


@contextlib.asynccontextmanager
async def _impostor(net: Network, folder: Path) -> AsyncIterator[ServiceClient]:
    """A caller with a certificate of the dedicated line's CA that names a kiosk, not a store HQ."""
    identity = CertFactory(net.dep, folder).issue(
        name="impostor", role=Role.KIOSK, instance=KIOSK, segment_id="dedicated"
    )
    async with client_session(identity, expected_role=Role.CENTER) as session:
        yield ServiceClient(session=session, base_url=net.center.base_url, expected_role=Role.CENTER)


async def test_a_caller_that_is_not_a_store_hq_is_refused(net: Network, tmp_path: Path) -> None:
    line = _open(net)
    async with _impostor(net, tmp_path) as impostor:
        with pytest.raises(AuthorizationError):
            await _send(impostor, _batch(_report(line)))
    assert _lines(net, line)[0].status is LineStatus.PENDING
    assert net.forwarders[NISHITOKYO].batches == []


async def _post(net: Network, body: Any, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    all_headers = {"Content-Type": "application/json", **headers}
    url = net.center.base_url + PATH_COMPLETION_BATCHES
    async with net.hq_session.post(url, json=body, headers=all_headers) as response:
        return response.status, await response.json()


async def test_bad_requests_are_refused_whole(net: Network) -> None:
    line = _open(net)
    batch = _batch(_report(line))
    body = batch.model_dump(mode="json")
    twice = body | {"completions": body["completions"] * 2}
    too_many = body | {"completions": body["completions"] * (MAX_COMPLETION_BATCH + 1)}
    cases = [
        (twice, {IDEMPOTENCY_KEY_HEADER: batch.batch_id}),  # a transaction twice in one batch
        (too_many, {IDEMPOTENCY_KEY_HEADER: batch.batch_id}),
        (body | {"completions": []}, {IDEMPOTENCY_KEY_HEADER: batch.batch_id}),
        (body, {}),  # no key
        (body, {IDEMPOTENCY_KEY_HEADER: line.transaction_id}),  # the key of a single report
        (body, {IDEMPOTENCY_KEY_HEADER: f"batch-{uuid.uuid4().hex}"}),  # another batch's key
        (body | {"batch_id": "tx-" + batch.batch_id[6:]}, {IDEMPOTENCY_KEY_HEADER: "tx-" + batch.batch_id[6:]}),
    ]
    for sent, headers in cases:
        status, answer = await _post(net, sent, headers)
        assert (status, answer["error"]) == (400, "invalid_input"), (sent.keys(), headers)
        assert set(answer) == {"error", "message", "message_ja"}
    with pytest.raises(ValidationError, match="batch id"):
        await net.kiosk.hq.post_json(PATH_COMPLETION_BATCHES, body, idempotency_key=line.transaction_id)
    assert _lines(net, line)[0].status is LineStatus.PENDING
    assert net.forwarders[NISHITOKYO].batches == []


async def test_the_single_completion_route_is_gone(net: Network) -> None:
    """A store HQ sends completions on only in batches: the one-report route it once had answers 404 and closes
    nothing, however well-formed the report (one less way in to close a line)."""
    line = _open(net)
    report = _report(line, printed=2)
    url = net.center.base_url + PATH_COMPLETIONS
    headers = {IDEMPOTENCY_KEY_HEADER: line.transaction_id}
    async with net.hq_session.post(url, json=report.model_dump(mode="json"), headers=headers) as response:
        status, answer = response.status, await response.json()
    assert (status, answer["error"]) == (404, "not_found")
    assert set(answer) == {"error", "message", "message_ja"}
    assert (_lines(net, line)[0].status, _lines(net, line)[0].amount_yen) == (LineStatus.PENDING, 0)
    assert net.forwarders[NISHITOKYO].batches == []


async def test_a_full_batch_closes_in_one_exchange_per_city(net: Network) -> None:
    lines = [
        _open(net, city=(NISHITOKYO, KODAIRA)[i % 2], kind=("juminhyo", "inkan")[i % 2])
        for i in range(MAX_COMPLETION_BATCH)
    ]
    answer = await _send(net.kiosk.hq, _batch(*(_report(line) for line in lines)))
    assert [r.closed for r in answer.results] == [True] * MAX_COMPLETION_BATCH
    assert {line.status for line in _lines(net, *lines)} == {LineStatus.CLOSED}
    assert [len(sent.completions) for _h, sent in net.forwarders[NISHITOKYO].batches] == [MAX_COMPLETION_BATCH // 2]
    assert [len(sent.completions) for _h, sent in net.forwarders[KODAIRA].batches] == [MAX_COMPLETION_BATCH // 2]


async def test_the_store_closes_only_pending_lines_and_finds_only_existing_ones(net: Network) -> None:
    pending, closed, failed = _open(net), _open(net), _open(net, status=LineStatus.FAILED)
    with _store(net) as store:
        first = LineClosing(
            transaction_id=closed.transaction_id, outcome="printed", copies_printed=1, copies_voided=0, amount_yen=1
        )
        assert store.close_lines([first], at=net.clock.now()) == {closed.transaction_id}
        closings = [
            LineClosing(
                transaction_id=line.transaction_id, outcome="printed", copies_printed=2, copies_voided=0, amount_yen=600
            )
            for line in (pending, closed, failed)
        ]
        assert store.close_lines(closings, at=net.clock.now()) == {pending.transaction_id}
        assert store.close_lines([], at=net.clock.now()) == set()
        found = store.find_lines([pending.transaction_id, f"tx-{uuid.uuid4().hex}", failed.transaction_id])
        assert store.find_lines([]) == {}
    assert set(found) == {pending.transaction_id, failed.transaction_id}
    assert [(line.status, line.amount_yen) for line in _lines(net, pending, closed, failed)] == [
        (LineStatus.CLOSED, 600),
        (LineStatus.CLOSED, 1),  # closed before: kept as it was
        (LineStatus.FAILED, 0),  # never charged
    ]
