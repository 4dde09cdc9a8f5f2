"""Transactions: idempotent retries, conflicting reuse, concurrent applicants, completion, the document status."""

from __future__ import annotations

import asyncio

import pytest

from yakuba.errors import ValidationError, VerificationError
from yakuba.issuer import EntryStatus
from yakuba.issuer.errors import TransactionClosedError, TransactionConflictError
from yakuba.registry import Person
from yakuba.wire.messages import Outcome

from .issuer_support import JUKI, TODAY, IssuerCalls, World, completion, open_answer, pdf_text, sign, squeezed

CONCURRENT = 20
"""Applicants at once from different stores: the Kawasaki/Takamatsu incidents were two within one second."""


def _entry(world: World, transaction_id: str) -> object:
    store = world.log_store(JUKI)
    try:
        return store.fetch_entry(transaction_id), store.count_entries(transaction_id=transaction_id)
    finally:
        store.dispose()


async def test_a_retry_gets_the_first_answer_and_writes_one_entry(world: World, issuer: IssuerCalls) -> None:
    person = world.claim(world.ordinary)
    submission, key = sign(world.dep, world.enrol(person), kind="juminhyo-kisai")
    first = await issuer.issue(submission)
    again = await issuer.issue(submission)
    assert again == first  # the same envelope, serial and pages: nothing was issued twice
    entry, count = _entry(world, submission.request.transaction_id)  # type: ignore[misc]
    assert count == 1
    assert entry.status is EntryStatus.ISSUED
    assert entry.envelope == first.envelope
    assert entry.person_hash is not None
    assert str(person.id) != entry.person_hash
    assert squeezed(person.name.full) in pdf_text(open_answer(again, submission, key))


async def test_the_same_transaction_id_for_another_request_is_refused(world: World, issuer: IssuerCalls) -> None:
    person = world.claim(world.ordinary)
    card = world.enrol(person)
    submission, _key = sign(world.dep, card, kind="juminhyo-kisai")
    await issuer.issue(submission)
    other, _ = sign(world.dep, card, kind="juminhyo", transaction_id=submission.request.transaction_id)
    with pytest.raises(TransactionConflictError):
        await issuer.issue(other)
    # Another card replaying the very same signed request body cannot take the first card's answer either.
    stranger = world.enrol(world.claim(world.ordinary))
    replayed, _ = sign(world.dep, stranger, kind="juminhyo-kisai", transaction_id=submission.request.transaction_id)
    with pytest.raises(TransactionConflictError):
        await issuer.issue(replayed)


async def test_concurrent_applicants_each_get_their_own_document(world: World, issuer: IssuerCalls) -> None:
    people: list[Person] = []
    for _ in range(CONCURRENT):
        # One per household: a 記載事項証明書 prints the head's name, so a household pair would share one.
        taken = frozenset(p.household_id for p in people)
        people.append(world.claim(lambda p, taken=taken: world.ordinary(p) and p.household_id not in taken))
    signed = [sign(world.dep, world.enrol(p), kind="juminhyo-kisai") for p in people]
    answers = await asyncio.gather(*(issuer.issue(submission) for submission, _key in signed))
    assert len({a.document_serial for a in answers}) == CONCURRENT
    for index, (person, (submission, key), answer) in enumerate(zip(people, signed, answers, strict=True)):
        assert answer.transaction_id == submission.request.transaction_id
        text = pdf_text(open_answer(answer, submission, key))
        assert squeezed(person.name.full) in text
        others = [p for p in people if p.id != person.id and p.name.full != person.name.full]
        assert not any(squeezed(p.name.full) in text for p in others)
        # Only its own transaction key opens it: the neighbour's key (and binding) does not.
        neighbour_submission, neighbour_key = signed[(index + 1) % CONCURRENT]
        with pytest.raises(VerificationError):
            open_answer(answer, neighbour_submission, neighbour_key)
        with pytest.raises(VerificationError):
            open_answer(answer, submission, neighbour_key)


async def test_completion_closes_once_and_drops_the_envelope(world: World, issuer: IssuerCalls) -> None:
    person = world.claim(world.ordinary)
    submission, _key = sign(world.dep, world.enrol(person), kind="juminhyo-kisai", copies=2)
    answer = await issuer.issue(submission)
    first = await issuer.complete(completion(submission, Outcome.PRINTED, printed=1, voided=1))
    assert first.closed is True
    second = await issuer.complete(completion(submission, Outcome.PRINTED, printed=1, voided=1))
    assert second.closed is False
    entry, _count = _entry(world, submission.request.transaction_id)  # type: ignore[misc]
    assert entry.status is EntryStatus.PRINTED
    assert entry.envelope is None
    assert (entry.copies_printed, entry.copies_voided) == (1, 1)
    with pytest.raises(TransactionClosedError):  # a late retry cannot fetch a completed document again
        await issuer.issue(submission)
    status, body = await issuer.get(f"/v1/documents/{answer.document_serial}")
    assert status == 200
    assert body["genuine"] is True
    assert body["status"] == "printed"
    assert body["revoked"] is False
    assert body["kind"] == "juminhyo-kisai"
    assert body["city_code"] == "132292"
    assert body["issued_on"] == TODAY.isoformat()
    assert set(body) == {"serial", "genuine", "city_code", "kind", "issued_on", "content_digest", "revoked", "status"}


async def test_completion_must_match_its_transaction(world: World, issuer: IssuerCalls) -> None:
    person = world.claim(world.ordinary)
    submission, _key = sign(world.dep, world.enrol(person), kind="juminhyo-kisai")
    answer = await issuer.issue(submission)
    wrong_kiosk = completion(submission).model_copy(update={"kiosk_id": "aozora-kodaira-1"})
    refusals = [
        (wrong_kiosk, "invalid_input"),
        (completion(submission, Outcome.PRINTED, printed=0), "invalid_input"),  # printed needs a printed copy
        (completion(submission, Outcome.PRINTED, printed=2), "invalid_input"),  # more copies than asked for
        (completion(submission).model_copy(update={"transaction_id": "tx-" + "0" * 32}), "not_found"),
    ]
    for report, code in refusals:
        result = await issuer.complete(report)
        assert (result.error, result.retry, result.closed) == (code, False, None), report
    entry, _count = _entry(world, submission.request.transaction_id)  # type: ignore[misc]
    assert (entry.status, entry.envelope is None) == (EntryStatus.ISSUED, False)  # the refusals changed nothing
    voided = await issuer.complete(completion(submission, Outcome.JAM_VOIDED, printed=0, voided=1))
    assert voided.closed is True
    _status, body = await issuer.get(f"/v1/documents/{answer.document_serial}")
    assert body["status"] == "jam_voided"
    assert body["revoked"] is True


async def test_unknown_serials_and_missing_idempotency_keys(world: World, issuer: IssuerCalls) -> None:
    status, body = await issuer.get("/v1/documents/J229-99999999")
    assert (status, body["error"]) == (404, "not_found")
    status, body = await issuer.get("/v1/documents/not-a-serial")
    assert status == 400
    status, body = await issuer.get("/v1/health")
    assert body == {"status": "ok", "role": "issuer", "instance": JUKI}
    person = world.claim(world.ordinary)
    submission, _key = sign(world.dep, world.enrol(person), kind="juminhyo-kisai")
    client = issuer.clients[JUKI]
    with pytest.raises(ValidationError, match="Idempotency-Key"):
        await client.post_json("/v1/issuances", submission.model_dump(mode="json"), idempotency_key="tx-" + "1" * 32)
