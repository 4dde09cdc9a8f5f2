"""A resident's own issuance history through the whole chain, and the issuer's audit log behind it (issue 6)."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from collections import Counter
from typing import Any

import pytest

from yakuba.audit import load_subject_secret, open_deployment_log, subject_key, verify_log
from yakuba.clock import JST
from yakuba.errors import EligibilityError, VerificationError, WrongPinError, YakubaError
from yakuba.kiosk.hq_client import open_hq_client
from yakuba.kiosk.service import Choice, HistoryLine, run_history, run_transaction
from yakuba.kiosk.terminal import open_kiosk
from yakuba.network.sample_town import Situation, TownCard
from yakuba.pki.card import VirtualCardReader
from yakuba.wire import SealingBinding, TransactionKey, card_fingerprint, request_digest
from yakuba.wire.card_auth import card_auth_digest
from yakuba.wire.messages import HistoryDocument, HistoryOutcome, HistoryRequest, HistorySubmission

from .conftest import Chain

pytestmark = pytest.mark.asyncio(loop_scope="package")

NISHITOKYO = "132292"
JUKI = "nishitokyo-issuer-juki"
KOSEKI = "nishitokyo-issuer-koseki"
TANASHI = "midori-tanashi-1"
KODAIRA_STORE = "aozora-kodaira-1"

INTEGRATION_WAIT_S = 10.0
"""How long the tests wait for the issuer's integrator (one checkpoint a second) to take in every entry."""


async def history_of(chain: Chain, card: TownCard, *, kiosk: str = TANASHI) -> list[HistoryLine]:
    async with open_kiosk(chain.dep, instance=kiosk, clock=chain.clock) as terminal:
        return await run_history(
            terminal, reader=VirtualCardReader.open(chain.dep, path=card.path), city=card.city_code, pin=card.pin
        )


async def issue_at(chain: Chain, card: TownCard, kind: str, *, kiosk: str) -> dt.datetime:
    """One printed certificate at KIOSK, a minute after the last thing that happened; returns its time."""
    chain.clock.advance(dt.timedelta(minutes=1))
    at = chain.clock.now()
    async with open_kiosk(chain.dep, instance=kiosk, clock=chain.clock) as terminal:
        receipt, _ = await run_transaction(
            terminal,
            reader=VirtualCardReader.open(chain.dep, path=card.path),
            choice=Choice(basis="residence", city=card.city_code, kind=kind, options={}),
            pin=card.pin,
        )
    assert receipt.outcome.value == "printed"
    await chain.delivered()  # the issuer's entry closes from the HQ's next completion batch
    return at


def location_of(chain: Chain, kiosk: str) -> str:
    return next(k.location for _chain, k in chain.dep.kiosks() if k.instance == kiosk)


def key_of(line: HistoryLine) -> tuple[Any, ...]:
    return (line.at, line.kind, line.kiosk_id, line.outcome, line.copies)


def added(before: list[HistoryLine], after: list[HistoryLine]) -> list[HistoryLine]:
    """The lines of AFTER that BEFORE did not have (as a multiset)."""
    left = Counter(key_of(line) for line in before)
    new = []
    for line in after:
        if left[key_of(line)]:
            left[key_of(line)] -= 1
        else:
            new.append(line)
    return new


async def test_each_resident_sees_exactly_their_own_issuances(chain: Chain) -> None:
    alice = chain.town.card(Situation.HOUSEHOLD, city_code=NISHITOKYO)
    bob = chain.town.card(Situation.SEAL, city_code=NISHITOKYO)
    assert alice.person_id != bob.person_id
    alice_before, bob_before = await history_of(chain, alice), await history_of(chain, bob)

    alice_at = await issue_at(chain, alice, "juminhyo", kiosk=TANASHI)
    bob_at = await issue_at(chain, bob, "inkan", kiosk=KODAIRA_STORE)

    alice_after, bob_after = await history_of(chain, alice), await history_of(chain, bob)
    (alice_new,) = added(alice_before, alice_after)
    assert (alice_new.kind, alice_new.kiosk_id, alice_new.outcome, alice_new.copies) == (
        "juminhyo",
        TANASHI,
        HistoryOutcome.PRINTED,
        1,
    )
    assert alice_new.at == alice_at.astimezone(JST).replace(microsecond=0)
    assert alice_new.at.utcoffset() == dt.timedelta(hours=9)
    assert alice_new.store == location_of(chain, TANASHI)
    assert alice_new.chain_id == "midori"
    assert alice_new.issuer_id == JUKI
    (bob_new,) = added(bob_before, bob_after)
    assert (bob_new.kind, bob_new.kiosk_id, bob_new.outcome) == ("inkan", KODAIRA_STORE, HistoryOutcome.PRINTED)
    assert bob_new.at == bob_at.astimezone(JST).replace(microsecond=0)
    assert bob_new.store == location_of(chain, KODAIRA_STORE)
    # Neither sees the other's certificate.
    assert all(line.at != bob_new.at for line in alice_after)
    assert all(line.at != alice_new.at for line in bob_after)
    assert [key_of(line) for line in alice_after] == sorted(key_of(line) for line in alice_after)


async def test_a_refusal_shows_as_refused_and_never_why(chain: Chain) -> None:
    protected = chain.town.card(Situation.SUPPORT_MEASURE, city_code=NISHITOKYO)
    chain.clock.advance(dt.timedelta(minutes=1))
    refused_at = chain.clock.now().astimezone(JST).replace(microsecond=0)
    async with open_kiosk(chain.dep, instance=TANASHI, clock=chain.clock) as terminal:
        with pytest.raises(EligibilityError):
            await run_transaction(
                terminal,
                reader=VirtualCardReader.open(chain.dep, path=protected.path),
                choice=Choice(basis="residence", city=NISHITOKYO, kind="juminhyo", options={}),
                pin=protected.pin,
            )
    await chain.delivered()  # the abandoned report reaches the issuer from the HQ's next batch
    lines = await history_of(chain, protected)
    (refused,) = [line for line in lines if line.at == refused_at]
    assert (refused.kind, refused.kiosk_id, refused.outcome) == ("juminhyo", TANASHI, HistoryOutcome.REFUSED)
    # The audit entry behind it names the person by subject hash only and carries no reason.
    opened = open_deployment_log(chain.dep, JUKI)
    try:
        subject = subject_key(
            load_subject_secret(key_dir=chain.dep.key_dir, log_name=JUKI), "resident", str(protected.person_id)
        )
        every_field = frozenset({"reason", "transaction_id", "document_serial", "kiosk", "kind", "outcome", "store"})
        events = opened.log.entries_for_subject(subject, visible_fields=every_field)
    finally:
        opened.log.engine.dispose()
    refusals = [e for e in events if e.event_type == "issuance.refused"]
    assert refusals
    for event in refusals:
        assert "reason" not in event.fields
        assert not any("support" in str(value) for value in event.fields.values())


async def test_history_envelopes_open_only_with_their_own_key_and_binding(chain: Chain) -> None:
    card = chain.town.card(Situation.HOUSEHOLD, city_code=NISHITOKYO)
    key = TransactionKey.generate()
    request = HistoryRequest(
        transaction_id=f"tx-{secrets.token_hex(16)}",
        kiosk_id=TANASHI,
        city=NISHITOKYO,
        transaction_key=key.public_bytes(),
        requested_at=chain.clock.now().isoformat(),
    )
    async with open_hq_client(chain.dep, instance=TANASHI) as hq:
        challenge = await hq.challenge()
        with VirtualCardReader.open(chain.dep, path=card.path) as reader:
            reader.select_jpki_ap()
            certificate = reader.read_auth_certificate()
            reader.verify_pin(card.pin)
            signature = reader.sign_digest(
                card_auth_digest(
                    challenge=challenge.challenge,
                    request_digest=request_digest(request.signed_form()),
                    kiosk_id=TANASHI,
                )
            )
        answer = await hq.history(
            HistorySubmission(
                request=request, challenge=challenge.challenge, card_certificate=certificate, signature=signature
            )
        )
    assert answer.transaction_id == request.transaction_id
    assert len(answer.envelopes) == 2  # one per issuer of the city
    binding = SealingBinding(
        transaction_id=request.transaction_id,
        card_fingerprint=card_fingerprint(certificate),
        request_digest=request_digest(request.signed_form()),
        purpose="history",
    )
    issuers = set()
    for envelope in answer.envelopes:
        assert b"juminhyo" not in envelope
        with pytest.raises(VerificationError):
            TransactionKey.generate().open(envelope, binding=binding)
        as_certificate = SealingBinding(
            transaction_id=binding.transaction_id,
            card_fingerprint=binding.card_fingerprint,
            request_digest=binding.request_digest,
            purpose="certificate",
        )
        with pytest.raises(VerificationError):
            key.open(envelope, binding=as_certificate)
        document = HistoryDocument.model_validate_json(key.open(envelope, binding=binding))
        assert document.transaction_id == request.transaction_id
        issuers.add(document.issuer_id)
    assert issuers == {JUKI, KOSEKI}


async def test_a_history_request_cannot_be_replayed(chain: Chain) -> None:
    """The challenge is single use: the same signed request sent twice is refused the second time."""
    card = chain.town.card(Situation.SEAL, city_code=NISHITOKYO)
    key = TransactionKey.generate()
    request = HistoryRequest(
        transaction_id=f"tx-{secrets.token_hex(16)}",
        kiosk_id=TANASHI,
        city=NISHITOKYO,
        transaction_key=key.public_bytes(),
        requested_at=chain.clock.now().isoformat(),
    )
    async with open_hq_client(chain.dep, instance=TANASHI) as hq:
        challenge = await hq.challenge()
        with VirtualCardReader.open(chain.dep, path=card.path) as reader:
            reader.select_jpki_ap()
            certificate = reader.read_auth_certificate()
            reader.verify_pin(card.pin)
            digest = card_auth_digest(
                challenge=challenge.challenge, request_digest=request_digest(request.signed_form()), kiosk_id=TANASHI
            )
            signature = reader.sign_digest(digest)
        submission = HistorySubmission(
            request=request, challenge=challenge.challenge, card_certificate=certificate, signature=signature
        )
        await hq.history(submission)
        with pytest.raises(YakubaError):
            await hq.history(submission)


async def test_a_wrong_pin_sends_nothing(chain: Chain) -> None:
    card = chain.town.card(Situation.KOSEKI, city_code=NISHITOKYO)
    wrong = "0000" if card.pin != "0000" else "1111"
    async with open_kiosk(chain.dep, instance=TANASHI, clock=chain.clock) as terminal:
        with pytest.raises(WrongPinError):
            await run_history(
                terminal, reader=VirtualCardReader.open(chain.dep, path=card.path), city=NISHITOKYO, pin=wrong
            )
    # The right PIN afterwards resets the count and works.
    await history_of(chain, card)


async def test_the_issuers_audit_logs_verify_after_the_run(chain: Chain) -> None:
    sizes = {}
    for instance in (JUKI, KOSEKI):
        opened = open_deployment_log(chain.dep, instance)
        try:
            deadline = asyncio.get_running_loop().time() + INTEGRATION_WAIT_S
            while opened.log.pending_count() and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.2)
            assert opened.log.pending_count() == 0
            report = await asyncio.to_thread(verify_log, opened.log.engine, log_key=opened.verifier)
        finally:
            opened.log.engine.dispose()
        assert report.pending == 0
        sizes[instance] = report.tree_size
    # The juki issuer issued and refused above: issued, completed and refused entries, all integrated.
    assert sizes[JUKI] >= 3


async def test_the_kiosk_cli_prints_the_history_table(chain: Chain) -> None:
    from typer.testing import CliRunner

    from yakuba.cli._kiosk import app

    card = chain.town.card(Situation.HOUSEHOLD, city_code=NISHITOKYO)
    args = ["history", str(chain.dep.root), "--kiosk", TANASHI, "--card", str(card.path)]
    # In a worker thread: the command runs its own event loop, and this test's loop serves the chain.
    result = await asyncio.to_thread(CliRunner().invoke, app, args, input=card.pin + "\n")
    assert result.exit_code == 0, result.output
    for header in ("日時", "証明書", "店舗", "結果", "time", "certificate", "store", "outcome"):
        assert header in result.output
    assert "住民票の写し" in result.output
    assert "印刷済" in result.output
    wrong = await asyncio.to_thread(CliRunner().invoke, app, args, input="0000\n" if card.pin != "0000" else "1111\n")
    assert wrong.exit_code == 2
    assert "wrong_pin" in wrong.output
