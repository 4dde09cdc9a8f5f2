"""Center -> forwarder -> real issuer over mTLS: the kiosk's sealed certificate comes back untouched."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from tests.wire.batch_support import complete_one

from yakuba.clock import FixedClock
from yakuba.config import Deployment, Role
from yakuba.forwarder import create_app as create_forwarder
from yakuba.forwarder import listen_segment as forwarder_segment
from yakuba.issuer import CardNotRegisteredError
from yakuba.issuer import create_app as create_issuer
from yakuba.issuer import listen_segment as issuer_segment
from yakuba.pki import load_service_identity
from yakuba.pki.card import VirtualCardReader, enrol_card
from yakuba.registry import (
    Person,
    PersonNotFoundError,
    RegistryDatabase,
    ResidentStatus,
    enrol_resident_card,
    generate_city,
    open_city_registry,
)
from yakuba.wire import (
    SealingBinding,
    Server,
    ServiceClient,
    TransactionKey,
    card_fingerprint,
    client_session,
    request_digest,
)
from yakuba.wire.card_auth import card_auth_digest
from yakuba.wire.messages import (
    PATH_ISSUANCES,
    IssuanceAnswer,
    IssuanceRequest,
    Outcome,
    RoutedSubmission,
    TaggedCompletion,
)

from .conftest import CENTER, CITY, FORWARDER, JUKI, KOSEKI, NOW, OTHER_CITY, with_issuer_ports

RESIDENTS = 40
SEED = 7


@dataclasses.dataclass(frozen=True)
class Card:
    path: Path
    pin: str
    serial: str


@dataclasses.dataclass
class RealChain:
    dep: Deployment
    center: ServiceClient
    person: Person
    card: Card
    stranger: Card


def _plain_adult(db: RegistryDatabase) -> Person:
    """A resident the kiosk may serve, with a short name and nobody special in the household."""
    today = NOW.date()
    with db.transaction() as tx:
        for person_id in range(1, 10_000):
            try:
                person = tx.fetch_person(person_id)
            except PersonNotFoundError:
                break
            view = tx.fetch_household_for_certificate(person_id)
            if (
                person.status is ResidentStatus.RESIDENT
                and person.age_on(today) >= 15
                and today not in (person.resident_since, person.address_since)
                and len(person.name.full) <= 8
                and not view.has_pending_move_out
                and not any(m.support_measure for m in view.members)
            ):
                return person
    raise AssertionError("no plain adult in the generated city")


@pytest.fixture
async def real_chain(deployment: Deployment, tmp_path: Path) -> AsyncIterator[RealChain]:
    """A generated Nishitokyo, a card for one resident, both real issuers and the forwarder."""
    clock = FixedClock(NOW)
    db = RegistryDatabase.for_city(deployment, CITY)
    db.migrate()
    generate_city(
        db, city_code=CITY, residents=RESIDENTS, seed=SEED, as_of=NOW.date(), loaded_at=NOW - dt.timedelta(hours=9)
    )
    person = _plain_adult(db)
    db.dispose()
    registry = open_city_registry(deployment, CITY, clock=clock)
    enrolled = enrol_resident_card(
        deployment, registry.events, city_code=CITY, person_id=person.id, path=tmp_path / "a.card", clock=clock
    )
    registry.db.dispose()
    foreign = enrol_card(deployment, city_code=OTHER_CITY, pin="1234", path=tmp_path / "b.card", clock=clock)
    issuers = {
        name: Server(
            app=create_issuer(deployment, instance=name, clock=clock),
            identity=load_service_identity(deployment, instance=name, segment_id=issuer_segment(deployment, name)),
        )
        for name in (JUKI, KOSEKI)
    }
    for server in issuers.values():
        await server.start()
    try:
        dep = with_issuer_ports(deployment, {name: server.port for name, server in issuers.items()})
        forwarder = Server(
            app=create_forwarder(dep, instance=FORWARDER, clock=clock),
            identity=load_service_identity(dep, instance=FORWARDER, segment_id=forwarder_segment(dep, FORWARDER)),
        )
        async with forwarder:
            identity = load_service_identity(dep, instance=CENTER, segment_id="lgwan")
            async with client_session(identity, expected_role=Role.FORWARDER) as session:
                yield RealChain(
                    dep=dep,
                    center=ServiceClient(session=session, base_url=forwarder.base_url, expected_role=Role.FORWARDER),
                    person=person,
                    card=Card(path=enrolled.path, pin=enrolled.one_time_pin, serial=enrolled.serial),
                    stranger=Card(path=foreign.path, pin="1234", serial=foreign.serial),
                )
    finally:
        for server in issuers.values():
            await server.stop()


def _signed(dep: Deployment, card: Card, kind: str) -> tuple[RoutedSubmission, TransactionKey]:
    key = TransactionKey.generate()
    request = IssuanceRequest(
        transaction_id=f"tx-{secrets.token_hex(16)}",
        kiosk_id="midori-tanashi-1",
        city=CITY,
        kind=kind,
        copies=1,
        transaction_key=key.public_bytes(),
        requested_at=NOW.isoformat(),
    )
    challenge = secrets.token_bytes(32)
    with VirtualCardReader.open(dep, path=card.path) as reader:
        reader.select_jpki_ap()
        certificate = reader.read_auth_certificate()
        reader.verify_pin(card.pin)
        digest = card_auth_digest(
            challenge=challenge, request_digest=request_digest(request.signed_form()), kiosk_id=request.kiosk_id
        )
        signature = reader.sign_digest(digest)
    return (
        RoutedSubmission(
            request=request,
            challenge=challenge,
            card_certificate=certificate,
            signature=signature,
            chain_id="midori",
            fee_yen=200,
        ),
        key,
    )


async def test_a_certificate_travels_through_the_forwarder_sealed(
    real_chain: RealChain, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    submission, key = _signed(real_chain.dep, real_chain.card, "juminhyo-kisai")
    transaction_id = submission.request.transaction_id
    body = await real_chain.center.post_json(
        PATH_ISSUANCES, submission.model_dump(mode="json"), idempotency_key=transaction_id
    )
    answer = IssuanceAnswer.model_validate(body)
    assert answer.issuer_id == JUKI
    pdf = key.open(
        answer.envelope,
        binding=SealingBinding(
            transaction_id=transaction_id,
            card_fingerprint=card_fingerprint(submission.card_certificate),
            request_digest=request_digest(submission.request.signed_form()),
            purpose="certificate",
        ),
    )
    document = pdfium.PdfDocument(pdf)
    try:
        page = document[0]
        textpage = page.get_textpage()
        text = "".join(textpage.get_text_range().split())
        textpage.close()
        page.close()
    finally:
        document.close()
    assert "".join(real_chain.person.name.full.split()) in text

    report = TaggedCompletion(
        transaction_id=transaction_id,
        outcome=Outcome.PRINTED,
        copies_printed=1,
        copies_voided=0,
        chain_id="midori",
        kiosk_id="midori-tanashi-1",
        city=CITY,
        kind="juminhyo-kisai",
    )
    done = await complete_one(real_chain.center, report)
    assert done.closed is True

    # "Is this card known here?" is the issuer's answer; the forwarder passes its refusal back as it came.
    stranger, _ = _signed(real_chain.dep, real_chain.stranger, "juminhyo-kisai")
    with pytest.raises(CardNotRegisteredError):
        await real_chain.center.post_json(
            PATH_ISSUANCES, stranger.model_dump(mode="json"), idempotency_key=stranger.request.transaction_id
        )

    forwarder_log = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("yakuba.forwarder"))
    assert transaction_id in forwarder_log
    for secret in (real_chain.card.serial, real_chain.stranger.serial, real_chain.person.name.given):
        assert secret not in forwarder_log
