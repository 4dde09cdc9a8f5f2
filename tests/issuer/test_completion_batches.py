"""Completion batches at the issuer: each report closed exactly as a single one (with its audit entry), a refused
report never refuses the others, a bad request or a caller other than the forwarder is refused whole."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest
from tests.wire.wire_support import CertFactory

from yakuba.audit import Actor, AuditEntry
from yakuba.config import Role
from yakuba.errors import AuthorizationError, StoreError, ValidationError
from yakuba.issuer import EntryStatus
from yakuba.issuer.app import build_service
from yakuba.issuer.audit_trail import IssuerAudit
from yakuba.issuer.errors import CardNotRegisteredError
from yakuba.issuer.log_entry import LogEntry, NewEntry
from yakuba.wire import IDEMPOTENCY_KEY_HEADER, ServiceClient, client_session
from yakuba.wire.messages import (
    MAX_COMPLETION_BATCH,
    PATH_COMPLETION_BATCHES,
    PATH_COMPLETIONS,
    CompletionBatch,
    CompletionResult,
    Outcome,
    TaggedCompletion,
)

from .issuer_support import CHAIN, CITY, FEE_YEN, JUKI, KIOSK, NOW, IssuerCalls, World, completion, sign


def _batch(*reports: TaggedCompletion) -> CompletionBatch:
    return CompletionBatch(batch_id=f"batch-{secrets.token_hex(16)}", completions=list(reports))


def _entries(world: World, *transaction_ids: str) -> list[LogEntry | None]:
    store = world.log_store(JUKI)
    try:
        return [store.fetch_entry(tx) for tx in transaction_ids]
    finally:
        store.dispose()


def _closed(report: TaggedCompletion, closed: bool = True) -> CompletionResult:
    return CompletionResult(transaction_id=report.transaction_id, closed=closed)


def _error(report: TaggedCompletion, code: str) -> CompletionResult:
    return CompletionResult(transaction_id=report.transaction_id, error=code)


async def test_a_mixed_batch_closes_each_report_as_a_single_one_would(world: World, issuer: IssuerCalls) -> None:
    signed = [sign(world.dep, world.enrol(world.claim(world.ordinary)), kind="juminhyo-kisai")[0] for _ in range(5)]
    for submission in signed:
        await issuer.issue(submission)
    printed, abandoned, closed_before, mismatched, too_many = signed
    assert (await issuer.complete(completion(closed_before))).closed is True
    refused, _key = sign(world.dep, world.foreign_card(), kind="juminhyo-kisai")
    with pytest.raises(CardNotRegisteredError):
        await issuer.issue(refused)
    reports = [
        completion(printed),
        completion(abandoned, Outcome.ABANDONED, printed=0),
        completion(closed_before),
        completion(refused, Outcome.ABANDONED, printed=0),  # nothing was issued: nothing to close
        completion(printed).model_copy(update={"transaction_id": f"tx-{secrets.token_hex(16)}"}),
        completion(mismatched).model_copy(update={"kiosk_id": "aozora-kodaira-1"}),
        completion(too_many, printed=2),  # more copies than were asked for
    ]
    batch = _batch(*reports)

    answer = await issuer.complete_batch(batch)

    assert answer.matches(batch)
    assert answer.results == [
        _closed(reports[0]),
        _closed(reports[1]),
        _closed(reports[2], False),
        _closed(reports[3], False),
        _error(reports[4], "not_found"),
        _error(reports[5], "invalid_input"),
        _error(reports[6], "invalid_input"),
    ]
    entries = _entries(world, *(s.request.transaction_id for s in (printed, abandoned, refused, mismatched, too_many)))
    assert [(e.status, e.envelope is None) for e in entries if e is not None] == [
        (EntryStatus.PRINTED, True),
        (EntryStatus.ABANDONED, True),
        (EntryStatus.REFUSED, True),
        (EntryStatus.ISSUED, False),  # refused reports change nothing: still open for a right one
        (EntryStatus.ISSUED, False),
    ]
    # A repeated batch changes nothing more: every report answers closed=false.
    again = await issuer.complete_batch(_batch(*reports[:4]))
    assert [r.closed for r in again.results] == [False] * 4


async def _post(issuer: IssuerCalls, body: Any, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    all_headers = {"Content-Type": "application/json", **headers}
    url = issuer.urls[JUKI] + PATH_COMPLETION_BATCHES
    async with issuer.session.post(url, json=body, headers=all_headers) as response:
        return response.status, await response.json()


def _issued(world: World, count: int) -> list[TaggedCompletion]:
    """COUNT transactions issued by the juki issuer as its log records them (no document rendered), as reports."""
    store = world.log_store(JUKI)
    reports = []
    try:
        for _ in range(count):
            tx = f"tx-{secrets.token_hex(16)}"
            new = NewEntry(
                transaction_id=tx,
                request_digest=secrets.token_bytes(32),
                card_hash=secrets.token_hex(32),
                kiosk_id=KIOSK,
                chain_id=CHAIN,
                kind="juminhyo",
                basis="residence",
                copies=1,
                fee_yen=FEE_YEN,
                person_hash=None,
                created_at=NOW,
            )
            entry = store.reserve(new, serial_prefix="J229")
            assert entry is not None
            store.mark_issued(entry.id, pages=1, issued_at=NOW, content_digest="0" * 64, envelope=b"sealed")
            reports.append(
                TaggedCompletion(
                    transaction_id=tx,
                    outcome=Outcome.PRINTED,
                    copies_printed=1,
                    copies_voided=0,
                    chain_id=CHAIN,
                    kiosk_id=KIOSK,
                    city=CITY,
                    kind="juminhyo",
                )
            )
    finally:
        store.dispose()
    return reports


async def test_bad_requests_are_refused_whole(world: World, issuer: IssuerCalls) -> None:
    [report] = _issued(world, 1)
    batch = _batch(report)
    body = batch.model_dump(mode="json")
    key = {IDEMPOTENCY_KEY_HEADER: batch.batch_id}
    cases = [
        (body | {"completions": body["completions"] * 2}, key),  # one transaction twice
        (body | {"completions": body["completions"] * (MAX_COMPLETION_BATCH + 1)}, key),
        (body, {}),
        (body, {IDEMPOTENCY_KEY_HEADER: report.transaction_id}),
        (body, {IDEMPOTENCY_KEY_HEADER: f"batch-{secrets.token_hex(16)}"}),
    ]
    for sent, headers in cases:
        status, answer = await _post(issuer, sent, headers)
        assert (status, answer["error"]) == (400, "invalid_input"), headers
        assert set(answer) == {"error", "message", "message_ja"}
    with pytest.raises(ValidationError, match="batch id"):
        await issuer.clients[JUKI].post_json(PATH_COMPLETION_BATCHES, body, idempotency_key=report.transaction_id)
    [entry] = _entries(world, report.transaction_id)
    assert entry is not None
    assert entry.status is EntryStatus.ISSUED


async def test_the_single_completion_route_is_gone(world: World, issuer: IssuerCalls) -> None:
    """The forwarder sends completions on only in batches: the one-report route answers 404 and closes nothing."""
    [report] = _issued(world, 1)
    url = issuer.urls[JUKI] + PATH_COMPLETIONS
    headers = {IDEMPOTENCY_KEY_HEADER: report.transaction_id}
    async with issuer.session.post(url, json=report.model_dump(mode="json"), headers=headers) as response:
        status, answer = response.status, await response.json()
    assert (status, answer["error"]) == (404, "not_found")
    [entry] = _entries(world, report.transaction_id)
    assert entry is not None
    assert (entry.status, entry.envelope is None) == (EntryStatus.ISSUED, False)


async def test_only_the_forwarder_may_send_batches(world: World, issuer: IssuerCalls, tmp_path: Path) -> None:
    [report] = _issued(world, 1)
    identity = CertFactory(world.dep, tmp_path).issue(
        name="impostor", role=Role.CENTER, instance="center-1", segment_id=f"backbone:{CITY}"
    )
    async with client_session(identity, expected_role=Role.ISSUER) as session:
        impostor = ServiceClient(session=session, base_url=issuer.urls[JUKI], expected_role=Role.ISSUER)
        batch = _batch(report)
        with pytest.raises(AuthorizationError):
            await impostor.post_json(
                PATH_COMPLETION_BATCHES, batch.model_dump(mode="json"), idempotency_key=batch.batch_id
            )
    [entry] = _entries(world, report.transaction_id)
    assert entry is not None
    assert entry.status is EntryStatus.ISSUED


async def test_a_full_batch_closes_every_report(world: World, issuer: IssuerCalls) -> None:
    reports = _issued(world, MAX_COMPLETION_BATCH)
    answer = await issuer.complete_batch(_batch(*reports))
    assert answer.results == [_closed(report) for report in reports]
    entries = _entries(world, *(r.transaction_id for r in reports))
    assert {(e.status, e.copies_printed) for e in entries if e is not None} == {(EntryStatus.PRINTED, 1)}


class _LostAuditLog:
    """An audit log whose every append fails, as a lost database connection would."""

    def append(self, tx: Any, entry: AuditEntry) -> object:
        raise StoreError("the audit entry cannot be written")

    def entries_for_subject(self, subject_hash: str, **_: Any) -> list[Any]:
        return []


def test_a_report_the_log_cannot_close_now_is_left_to_retry(world: World) -> None:
    reports = _issued(world, 2)
    unknown = reports[0].model_copy(update={"transaction_id": f"tx-{secrets.token_hex(16)}"})
    audit = IssuerAudit(
        log=_LostAuditLog(), subject_secret=secrets.token_bytes(32), actor=Actor(role="issuer", instance=JUKI)
    )
    parts = build_service(world.dep, instance=JUKI, audit=audit, clock=world.clock)
    try:
        answer = parts.service.complete_batch(_batch(reports[0], unknown, reports[1]))
    finally:
        parts.close()
    assert answer.results == [
        CompletionResult(transaction_id=reports[0].transaction_id, error="store_error", retry=True),
        _error(unknown, "not_found"),
        CompletionResult(transaction_id=reports[1].transaction_id, error="store_error", retry=True),
    ]
    # Nothing of them was written: the close rolled back with its audit entry, ready for the retry.
    assert {e.status for e in _entries(world, *(r.transaction_id for r in reports)) if e is not None} == {
        EntryStatus.ISSUED
    }
