"""The issuer's audit wiring: every issuance, refusal, completion and history reading has its entry, or does not
happen; histories."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from yakuba.audit import Actor, AuditEntry, load_subject_secret, open_deployment_log, subject_key, verify_log
from yakuba.council.store import fetch_entries_of_type
from yakuba.errors import StoreError, ValidationError, VerificationError, YakubaError
from yakuba.issuer import EntryStatus
from yakuba.issuer.app import build_service
from yakuba.issuer.audit_trail import EVENT_HISTORY_READ, IssuerAudit
from yakuba.issuer.errors import CardNotRegisteredError
from yakuba.issuer.service import IssuerService
from yakuba.pki.card import VirtualCardReader
from yakuba.registry import KosekiMember
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


# --- readings of the history -------------------------------------------------------------------------------

HISTORY_READ_FIELDS = frozenset({"transaction_id", "city", "kiosk", "chain", "records"})
"""Every field a `history.read` entry may hold: where, when, which kiosk transaction, how many records."""


def readings_of(world: World, transaction_id: str) -> list[AuditEntry]:
    """The `history.read` entries of one kiosk transaction in JUKI's log, integrated or pending, whole."""
    opened = open_deployment_log(world.dep, JUKI)
    try:
        return [
            e
            for e in fetch_entries_of_type(opened.log.engine, EVENT_HISTORY_READ)
            if e.fields.get("transaction_id") == transaction_id
        ]
    finally:
        opened.log.engine.dispose()


def outside_member(world: World) -> KosekiMember:
    """A current member of a Nishitokyo register who lives elsewhere (no residence record here)."""
    for register in world.registers:
        for member in register.members:
            if member.person_id is None and member.removed_on is None and not register.pending_filings:
                return member
    raise AssertionError("the generated city has no register member living elsewhere")


def register_of_member(world: World, member: KosekiMember) -> int:
    return next(r.id for r in world.registers if any(m.id == member.id for m in r.members))


class UnwritableAuditLog:
    """The issuer's real log for reads, whose appends fail after the first OK ones (a disk filling up)."""

    def __init__(self, real: Any, *, ok: int = 0) -> None:
        self.real = real
        self.ok = ok
        self.appends = 0

    @property
    def engine(self) -> Any:
        return self.real.engine

    def append(self, tx: Any, entry: AuditEntry) -> object:
        self.appends += 1
        if self.appends > self.ok:
            raise StoreError("the audit entry cannot be written")
        return self.real.append(tx, entry)

    def entries_for_subject(self, subject_hash: str, **kwargs: Any) -> list[Any]:
        return self.real.entries_for_subject(subject_hash, **kwargs)


@contextlib.contextmanager
def _service_whose_audit_fails(world: World, *, ok: int) -> Iterator[tuple[IssuerService, UnwritableAuditLog]]:
    """The juki issuer's service over its real audit log, whose appends fail after the first OK ones."""
    log = open_deployment_log(world.dep, JUKI)
    failing = UnwritableAuditLog(log.log, ok=ok)
    audit = IssuerAudit(
        log=failing,
        subject_secret=load_subject_secret(key_dir=world.dep.key_dir, log_name=JUKI),
        actor=Actor(role="issuer", instance=JUKI),
    )
    parts = build_service(world.dep, instance=JUKI, audit=audit, clock=world.clock)
    try:
        yield parts.service, failing
    finally:
        parts.close()
        log.log.engine.dispose()


async def test_a_history_reading_is_audited_without_personal_data(world: World, issuer: IssuerCalls) -> None:
    person = world.claim(world.ordinary)
    card = world.enrol(person)
    mine, _ = sign(world.dep, card, kind="juminhyo-kisai")
    await issuer.issue(mine)
    submission, key = signed_history(world, card)
    (record,) = opened(await history(issuer, submission), submission, key).records
    (reading,) = readings_of(world, submission.request.transaction_id)
    assert set(reading.fields) <= HISTORY_READ_FIELDS  # nothing else: no serial, no kind, no content
    assert dict(reading.fields) == {
        "transaction_id": submission.request.transaction_id,
        "city": CITY,
        "kiosk": KIOSK,
        "chain": CHAIN,
        "records": 1,
    }
    assert reading.subject == subject_of(world, person.id)  # the keyed hash, never the id
    assert (reading.actor.role, reading.actor.instance, reading.actor.staff_id) == ("issuer", JUKI, None)
    assert reading.time == NOW
    body = reading.canonical_bytes().decode("utf-8")
    for personal in (card.serial, person.my_number, person.juminhyo_code, person.name.family, person.name.given):
        assert personal not in body
    # The reading is audited, not listed: the next reading shows the same issuance only, and is audited too.
    again, again_key = signed_history(world, card)
    assert opened(await history(issuer, again), again, again_key).records == [record]
    (second,) = readings_of(world, again.request.transaction_id)
    assert (second.subject, second.fields["records"]) == (reading.subject, 1)
    readings = [e for e in events_of(world, reading.subject) if e.event_type == EVENT_HISTORY_READ]
    assert len(readings) == 2


async def test_a_reading_is_audited_once_per_subject_of_the_card(world: World, issuer: IssuerCalls) -> None:
    """A card standing for a resident and a register member (利用登録): one entry for each subject, one commit."""
    person, member = world.claim(world.ordinary), outside_member(world)
    card = world.enrol(person)
    world.registry.events.register_honseki_use(
        serial=card.serial, koseki_member_id=member.id, register_id=register_of_member(world, member)
    )
    submission, key = signed_history(world, card)
    assert opened(await history(issuer, submission), submission, key).records == []
    readings = readings_of(world, submission.request.transaction_id)
    secret = load_subject_secret(key_dir=world.dep.key_dir, log_name=JUKI)
    assert sorted(e.subject or "" for e in readings) == sorted(
        [subject_of(world, person.id), subject_key(secret, "koseki_member", str(member.id))]
    )
    assert all(e.fields["records"] == 0 and set(e.fields) <= HISTORY_READ_FIELDS for e in readings)
    # All the entries or none: the second failing rolls the first back, and nothing is answered.
    with _service_whose_audit_fails(world, ok=1) as (service, failing):
        lost, _ = signed_history(world, card)
        with pytest.raises(StoreError):
            service.history(lost)
        assert failing.appends == 2
    assert readings_of(world, lost.request.transaction_id) == []


def test_a_history_whose_reading_cannot_be_audited_is_not_answered(world: World) -> None:
    person = world.claim(world.ordinary)
    card = world.enrol(person)
    with _service_whose_audit_fails(world, ok=0) as (service, failing):
        submission, _ = signed_history(world, card)
        with pytest.raises(StoreError):
            service.history(submission)
        assert failing.appends == 1
    assert readings_of(world, submission.request.transaction_id) == []


async def test_the_log_with_readings_still_verifies(world: World, issuer: IssuerCalls) -> None:
    person = world.claim(world.ordinary)
    submission, _ = signed_history(world, world.enrol(person))
    await history(issuer, submission)
    opened_log = open_deployment_log(world.dep, JUKI, with_signer=True)
    try:
        opened_log.integrator().integrate_pending()
        report = verify_log(opened_log.log.engine, log_key=opened_log.verifier)
        (reading,) = opened_log.log.entries_for_subject(
            subject_of(world, person.id),
            event_types=[EVENT_HISTORY_READ],
            visible_fields=HISTORY_READ_FIELDS,
        )
    finally:
        opened_log.log.engine.dispose()
    assert reading.fields["transaction_id"] == submission.request.transaction_id
    assert reading.leaf_index is not None  # integrated: a leaf of the tree that verify_log recomputed
    assert reading.leaf_index < report.tree_size


async def test_a_refused_history_request_writes_no_reading(world: World, issuer: IssuerCalls) -> None:
    card = world.enrol(world.claim(world.ordinary))
    answered, _ = signed_history(world, card)
    await history(issuer, answered)
    assert len(readings_of(world, answered.request.transaction_id)) == 1
    other_city, _ = signed_history(world, card, city="132110")
    with pytest.raises(YakubaError):
        await history(issuer, other_city)
    submission, _ = signed_history(world, card)
    tampered = submission.model_copy(update={"request": submission.request.model_copy(update={"kiosk_id": "evil-1"})})
    with pytest.raises(VerificationError):
        await history(issuer, tampered)
    foreign, _ = signed_history(world, world.foreign_card())
    with pytest.raises(CardNotRegisteredError):
        await history(issuer, foreign)
    for refused in (other_city, tampered, foreign):
        assert readings_of(world, refused.request.transaction_id) == []
