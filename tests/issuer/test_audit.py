"""The issuer's audit wiring: every issuance, refusal and completion has its entry, or does not happen; histories."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from yakuba.audit import Actor, AuditEntry, load_subject_secret, open_deployment_log, subject_key
from yakuba.errors import StoreError, ValidationError, VerificationError, YakubaError
from yakuba.issuer import EntryStatus
from yakuba.issuer.app import build_service
from yakuba.issuer.audit_trail import IssuerAudit
from yakuba.issuer.errors import CardNotRegisteredError
from yakuba.pki.card import VirtualCardReader
from yakuba.wire import SealingBinding, TransactionKey, card_fingerprint, request_digest
from yakuba.wire.card_auth import card_auth_digest
from yakuba.wire.messages import (
    PATH_HISTORY,
    HistoryAnswer,
    HistoryDocument,
    HistoryOutcome,
    HistoryRequest,
    TaggedHistorySubmission,
)

from .issuer_support import CHAIN, CITY, JUKI, KIOSK, NOW, Card, IssuerCalls, World, completion, sign


class FailingAuditLog:
    """An audit log whose every append fails, as a full disk or a lost database connection would."""

    def __init__(self) -> None:
        self.appends = 0

    def append(self, tx: Any, entry: AuditEntry) -> object:
        self.appends += 1
        raise StoreError("the audit entry cannot be written")

    def entries_for_subject(self, subject_hash: str, **_: Any) -> list[Any]:
        return []


def subject_of(world: World, person_id: int, instance: str = JUKI) -> str:
    secret = load_subject_secret(key_dir=world.dep.key_dir, log_name=instance)
    return subject_key(secret, "resident", str(person_id))


def events_of(world: World, subject: str) -> list[Any]:
    opened = open_deployment_log(world.dep, JUKI)
    try:
        fields = frozenset(
            {"transaction_id", "document_serial", "kind", "kiosk", "chain", "outcome", "reason", "copies"}
        )
        return opened.log.entries_for_subject(subject, visible_fields=fields)
    finally:
        opened.log.engine.dispose()


def signed_history(
    world: World, card: Card, *, city: str = CITY, kiosk_id: str = KIOSK
) -> tuple[TaggedHistorySubmission, TransactionKey]:
    key = TransactionKey.generate()
    request = HistoryRequest(
        transaction_id=f"tx-{secrets.token_hex(16)}",
        kiosk_id=kiosk_id,
        city=city,
        transaction_key=key.public_bytes(),
        requested_at=NOW.isoformat(),
    )
    challenge = secrets.token_bytes(32)
    with VirtualCardReader.open(world.dep, path=card.path) as reader:
        reader.select_jpki_ap()
        certificate = reader.read_auth_certificate()
        reader.verify_pin(card.pin)
        signature = reader.sign_digest(
            card_auth_digest(
                challenge=challenge, request_digest=request_digest(request.signed_form()), kiosk_id=kiosk_id
            )
        )
    submission = TaggedHistorySubmission(
        request=request, challenge=challenge, card_certificate=certificate, signature=signature, chain_id=CHAIN
    )
    return submission, key


async def history(issuer: IssuerCalls, submission: TaggedHistorySubmission) -> HistoryAnswer:
    body = await issuer.clients[JUKI].post_json(
        PATH_HISTORY, submission.model_dump(mode="json"), idempotency_key=submission.request.transaction_id
    )
    return HistoryAnswer.model_validate(body)


def opened(answer: HistoryAnswer, submission: TaggedHistorySubmission, key: TransactionKey) -> HistoryDocument:
    binding = SealingBinding(
        transaction_id=submission.request.transaction_id,
        card_fingerprint=card_fingerprint(submission.card_certificate),
        request_digest=request_digest(submission.request.signed_form()),
        purpose="history",
    )
    (envelope,) = answer.envelopes
    return HistoryDocument.model_validate_json(key.open(envelope, binding=binding))


def test_an_issuance_whose_audit_entry_fails_is_not_issued(world: World) -> None:
    failing = FailingAuditLog()
    audit = IssuerAudit(log=failing, subject_secret=secrets.token_bytes(32), actor=Actor(role="issuer", instance=JUKI))
    parts = build_service(world.dep, instance=JUKI, audit=audit, clock=world.clock)
    store = world.log_store(JUKI)
    try:
        submission, _key = sign(world.dep, world.enrol(world.claim(world.ordinary)), kind="juminhyo-kisai")
        with pytest.raises(StoreError):
            parts.service.issue(submission)
        assert failing.appends == 1
        entry = store.fetch_entry(submission.request.transaction_id)
        assert entry is not None
        assert entry.status is EntryStatus.FAILED  # never issued: no envelope kept, nothing answered
        assert entry.envelope is None
        assert entry.issued_at is None
        # A refusal whose entry cannot be written is not recorded either (its transaction rolled back).
        protected = world.registry.events.set_support_measure(person_id=world.claim(world.ordinary).id, on=True)
        refused, _ = sign(world.dep, world.enrol(protected), kind="juminhyo")
        with pytest.raises(StoreError):
            parts.service.issue(refused)
        assert store.fetch_entry(refused.request.transaction_id) is None
    finally:
        store.dispose()
        parts.close()


async def test_issuance_and_completion_are_logged_against_the_person(world: World, issuer: IssuerCalls) -> None:
    person = world.claim(world.ordinary)
    submission, _key = sign(world.dep, world.enrol(person), kind="juminhyo-kisai", copies=2)
    answer = await issuer.issue(submission)
    assert (await issuer.complete(completion(submission, printed=2))).closed is True
    tx = submission.request.transaction_id
    events = [e for e in events_of(world, subject_of(world, person.id)) if e.fields.get("transaction_id") == tx]
    assert [e.event_type for e in events] == ["issuance.issued", "issuance.completed"]
    issued, completed = events
    assert issued.fields["document_serial"] == answer.document_serial
    assert (issued.fields["kind"], issued.fields["kiosk"], issued.fields["chain"]) == ("juminhyo-kisai", KIOSK, CHAIN)
    assert issued.fields["copies"] == 2
    assert completed.fields["outcome"] == "printed"
    assert (issued.actor_role, issued.actor_instance) == ("issuer", JUKI)
    # The replay of a completion writes nothing more.
    assert (await issuer.complete(completion(submission, printed=2))).closed is False
    again = [e for e in events_of(world, subject_of(world, person.id)) if e.fields.get("transaction_id") == tx]
    assert len(again) == 2


async def test_a_refusal_is_logged_without_its_reason(world: World, issuer: IssuerCalls) -> None:
    protected = world.registry.events.set_support_measure(person_id=world.claim(world.ordinary).id, on=True)
    submission, _ = sign(world.dep, world.enrol(protected), kind="juminhyo")
    with pytest.raises(YakubaError):
        await issuer.issue(submission)
    events = events_of(world, subject_of(world, protected.id))
    (refused,) = [e for e in events if e.event_type == "issuance.refused"]
    assert refused.fields["outcome"] == "refused"
    assert "reason" not in refused.fields
    assert "support" not in repr(dict(refused.fields))


async def test_the_history_lists_the_own_issuances_sealed_to_the_kiosk(world: World, issuer: IssuerCalls) -> None:
    person, other = world.claim(world.ordinary), world.claim(world.ordinary)
    card, other_card = world.enrol(person), world.enrol(other)
    mine, _ = sign(world.dep, card, kind="juminhyo-kisai")
    theirs, _ = sign(world.dep, other_card, kind="juminhyo-kisai", kiosk_id="aozora-kodaira-1")
    await issuer.issue(mine)
    await issuer.issue(theirs)
    assert (await issuer.complete(completion(mine, printed=1))).closed is True
    submission, key = signed_history(world, card)
    answer = await history(issuer, submission)
    document = opened(answer, submission, key)
    assert (document.city, document.issuer_id) == (CITY, JUKI)
    (record,) = document.records
    assert (record.kind, record.kiosk_id, record.outcome, record.copies) == (
        "juminhyo-kisai",
        KIOSK,
        HistoryOutcome.PRINTED,
        1,
    )
    assert record.store == "みどりマート 田無駅前店"
    assert record.at.endswith("+09:00")
    with pytest.raises(VerificationError):
        TransactionKey.generate().open(
            answer.envelopes[0],
            binding=SealingBinding(
                transaction_id=submission.request.transaction_id,
                card_fingerprint=card_fingerprint(submission.card_certificate),
                request_digest=request_digest(submission.request.signed_form()),
                purpose="history",
            ),
        )
    # The other resident's issuance is theirs alone.
    other_submission, other_key = signed_history(world, other_card)
    (other_record,) = opened(await history(issuer, other_submission), other_submission, other_key).records
    assert (other_record.kiosk_id, other_record.outcome) == ("aozora-kodaira-1", HistoryOutcome.ISSUED)


async def test_history_bad_input_is_refused_with_4xx(world: World, issuer: IssuerCalls) -> None:
    card = world.enrol(world.claim(world.ordinary))
    submission, _ = signed_history(world, card)
    client = issuer.clients[JUKI]
    url = issuer.urls[JUKI] + PATH_HISTORY
    # Not JSON, not the schema, extra fields: 4xx, never 500.
    for raw in (b"not json", b"{}", b'{"request": 1}'):
        async with issuer.session.post(
            url, data=raw, headers={"Content-Type": "application/json", "Idempotency-Key": "x"}
        ) as response:
            assert 400 <= response.status < 500, raw
    body = submission.model_dump(mode="json")
    async with issuer.session.post(url, json={**body, "extra": 1}) as response:
        assert 400 <= response.status < 500
    # The key must be the transaction id.
    with pytest.raises(ValidationError):
        await client.post_json(PATH_HISTORY, body, idempotency_key="tx-" + "0" * 32)
    # A request for another city; an altered request (signature no longer covers it); an unknown card.
    other_city, _ = signed_history(world, card, city="132110")
    with pytest.raises(YakubaError) as wrong_city:
        await history(issuer, other_city)
    assert wrong_city.value.http_status < 500
    tampered = submission.model_copy(update={"request": submission.request.model_copy(update={"kiosk_id": "evil-1"})})
    with pytest.raises(VerificationError):
        await history(issuer, tampered)
    foreign, _ = signed_history(world, world.foreign_card())
    with pytest.raises(CardNotRegisteredError):
        await history(issuer, foreign)
