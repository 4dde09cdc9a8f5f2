"""Helpers of the issuer tests: a generated city, cards for chosen residents, signed requests, opened answers."""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
from tests.wire.batch_support import complete_one

from yakuba.clock import JST, FixedClock
from yakuba.config import Deployment, Role
from yakuba.issuer import IssuanceLogStore
from yakuba.issuer.app import find_issuer
from yakuba.pki import load_service_identity
from yakuba.pki.card import VirtualCardReader, enrol_card
from yakuba.registry import (
    CityRegistry,
    KosekiRegister,
    Person,
    PersonNotFoundError,
    RegistryDatabase,
    ResidentStatus,
    enrol_resident_card,
)
from yakuba.wire import SealingBinding, ServiceClient, TransactionKey, card_fingerprint, client_session, request_digest
from yakuba.wire.card_auth import card_auth_digest
from yakuba.wire.messages import (
    PATH_COMPLETION_BATCHES,
    PATH_ISSUANCES,
    Basis,
    CompletionBatch,
    CompletionBatchAnswer,
    CompletionResult,
    IssuanceAnswer,
    IssuanceRequest,
    Outcome,
    RoutedSubmission,
    TaggedCompletion,
)

NOW = dt.datetime.combine(dt.datetime.now(JST).date(), dt.time(10, 0), tzinfo=JST)
"""The issue time of every test: 10:00 today (JST) on a fixed clock. Today rather than a fixed date because
the service certificates are checked against the real time by TLS; the PKI is made as of PKI_TIME."""
PKI_TIME = NOW - dt.timedelta(days=1)
"""init_pki's time: the city and service certificates are valid at NOW and at the real time of the run."""
TODAY = NOW.date()
CITY = "132292"
OTHER_CITY = "132110"
JUKI = "nishitokyo-issuer-juki"
KOSEKI = "nishitokyo-issuer-koseki"
FORWARDER = "nishitokyo-forwarder"
KIOSK = "midori-tanashi-1"
CHAIN = "midori"
FEE_YEN = 200
RESIDENTS = 200
SEED = 20251126
PIN = "4321"


@dataclasses.dataclass(frozen=True)
class Card:
    """A virtual card in a file, with its PIN and (when bound here) the person it belongs to."""

    serial: str
    path: Path
    pin: str
    person_id: int | None


@dataclasses.dataclass
class World:
    """The sample deployment with its PKI and a generated Nishitokyo, shared by the whole session."""

    dep: Deployment
    clock: FixedClock
    registry: CityRegistry
    folder: Path
    people: list[Person]
    registers: list[KosekiRegister]
    claimed: set[int] = dataclasses.field(default_factory=set)

    def person(self, person_id: int) -> Person:
        with self.registry.db.transaction() as tx:
            return tx.fetch_person(person_id)

    def claim(self, predicate: Callable[[Person], bool]) -> Person:
        """The first not yet claimed person of the generated city matching PREDICATE (each test gets its own)."""
        for person in self.people:
            if person.id not in self.claimed and predicate(person):
                self.claimed.add(person.id)
                return self.person(person.id)
        raise AssertionError("the generated city has nobody left for this test")

    def enrol(self, person: Person) -> Card:
        """A new card bound to PERSON at the counter, its one-time PIN kept."""
        path = self.folder / f"card-{secrets.token_hex(6)}.card"
        enrolled = enrol_resident_card(
            self.dep, self.registry.events, city_code=CITY, person_id=person.id, path=path, clock=self.clock
        )
        return Card(serial=enrolled.serial, path=path, pin=enrolled.one_time_pin, person_id=person.id)

    def foreign_card(self) -> Card:
        """A card of a Kodaira resident: a valid JPKI card, not bound to anybody in Nishitokyo."""
        path = self.folder / f"card-{secrets.token_hex(6)}.card"
        info = enrol_card(self.dep, city_code=OTHER_CITY, pin=PIN, path=path, clock=self.clock)
        return Card(serial=info.serial, path=path, pin=PIN, person_id=None)

    def log_store(self, instance: str) -> IssuanceLogStore:
        _city, issuer = find_issuer(self.dep, instance)
        return IssuanceLogStore.from_url(self.dep.database_url(issuer.database))

    def household_ok(self, person: Person) -> bool:
        """Nobody of the household has filed a move-out or is under a support measure."""
        with self.registry.db.transaction() as tx:
            view = tx.fetch_household_for_certificate(person.id)
        return not view.has_pending_move_out and not any(m.support_measure for m in view.members)

    def ordinary(self, person: Person) -> bool:
        """An adult resident whom no special case touches: the kind of applicant most tests need, kept apart
        from the few special people of the generated city that the refusal tests claim."""
        pending = any(
            register.pending_filings and any(m.person_id == person.id for m in register.members)
            for register in self.registers
        )
        return adult_resident(person) and self.household_ok(person) and not pending and fits_name_box(person)

    def register_of(self, person: Person) -> KosekiRegister | None:
        for register in self.registers:
            if any(m.person_id == person.id and m.removed_on is None for m in register.members):
                return register
        return None


def all_people(db: RegistryDatabase) -> list[Person]:
    people: list[Person] = []
    with db.transaction() as tx:
        for person_id in range(1, 10_000):
            try:
                people.append(tx.fetch_person(person_id))
            except PersonNotFoundError:
                break
    return people


def all_registers(db: RegistryDatabase) -> list[KosekiRegister]:
    registers: list[KosekiRegister] = []
    with db.transaction() as tx:
        for register_id in range(1, 10_000):
            try:
                registers.append(tx.fetch_register(register_id))
            except PersonNotFoundError:
                break
    return registers


NAME_BOX_EMS = 13.0
"""The narrowest name cell of the layouts (yakuba.documents): a wider name is refused, never cut off."""


def name_width(person: Person) -> float:
    """The printed width of the person's name in em, as the layouts measure it."""
    return sum(1.0 if unicodedata.east_asian_width(ch) in ("W", "F", "A") else 0.55 for ch in person.name.full)


def fits_name_box(person: Person) -> bool:
    return name_width(person) <= NAME_BOX_EMS


def adult_resident(person: Person) -> bool:
    """On the register, no move-out filed, no support measure, 15 or over, not moved today."""
    return (
        person.status is ResidentStatus.RESIDENT
        and not person.support_measure
        and person.age_on(TODAY) >= 15
        and TODAY not in (person.resident_since, person.address_since)
    )


def sign(
    dep: Deployment,
    card: Card,
    *,
    kind: str,
    options: dict[str, Any] | None = None,
    basis: Basis = Basis.RESIDENCE,
    copies: int = 1,
    city: str = CITY,
    kiosk_id: str = KIOSK,
    transaction_id: str | None = None,
) -> tuple[RoutedSubmission, TransactionKey]:
    """A submission as it reaches the issuer: the kiosk's request signed by CARD, tagged by HQ and center."""
    key = TransactionKey.generate()
    request = IssuanceRequest(
        transaction_id=transaction_id or f"tx-{secrets.token_hex(16)}",
        kiosk_id=kiosk_id,
        city=city,
        basis=basis,
        kind=kind,
        options=options or {},
        copies=copies,
        transaction_key=key.public_bytes(),
        requested_at=NOW.isoformat(),
    )
    challenge = secrets.token_bytes(32)
    with VirtualCardReader.open(dep, path=card.path) as reader:
        reader.select_jpki_ap()
        certificate = reader.read_auth_certificate()
        reader.verify_pin(card.pin)
        signature = reader.sign_digest(
            card_auth_digest(
                challenge=challenge, request_digest=request_digest(request.signed_form()), kiosk_id=kiosk_id
            )
        )
    submission = RoutedSubmission(
        request=request,
        challenge=challenge,
        card_certificate=certificate,
        signature=signature,
        chain_id=CHAIN,
        fee_yen=FEE_YEN,
    )
    return submission, key


def open_answer(answer: IssuanceAnswer, submission: RoutedSubmission, key: TransactionKey) -> bytes:
    """The PDF, opened as the kiosk opens it: this key, this transaction, this card, this exact request."""
    binding = SealingBinding(
        transaction_id=submission.request.transaction_id,
        card_fingerprint=card_fingerprint(submission.card_certificate),
        request_digest=request_digest(submission.request.signed_form()),
        purpose="certificate",
    )
    return key.open(answer.envelope, binding=binding)


def pdf_text(pdf: bytes) -> str:
    """Every page's text with all white space removed (names print with a full-width space)."""
    document = pdfium.PdfDocument(pdf)
    try:
        parts = []
        for index in range(len(document)):
            page = document[index]
            textpage = page.get_textpage()
            parts.append(textpage.get_text_range())
            textpage.close()
            page.close()
        return "".join("".join(parts).split())
    finally:
        document.close()


def squeezed(text: str) -> str:
    return "".join(text.split())


def completion(
    submission: RoutedSubmission, outcome: Outcome = Outcome.PRINTED, *, printed: int = 1, voided: int = 0
) -> TaggedCompletion:
    request = submission.request
    return TaggedCompletion(
        transaction_id=request.transaction_id,
        outcome=outcome,
        copies_printed=printed,
        copies_voided=voided,
        chain_id=CHAIN,
        kiosk_id=request.kiosk_id,
        city=request.city,
        kind=request.kind,
    )


class IssuerCalls:
    """Calls to the city's issuers as its forwarder makes them (the forwarder's backbone identity, real mTLS)."""

    def __init__(self, dep: Deployment, urls: dict[str, str]) -> None:
        identity = load_service_identity(dep, instance=FORWARDER, segment_id=f"backbone:{CITY}")
        self.session = client_session(identity, expected_role=Role.ISSUER)
        self.urls = urls
        self.clients = {
            instance: ServiceClient(session=self.session, base_url=url, expected_role=Role.ISSUER)
            for instance, url in urls.items()
        }

    async def close(self) -> None:
        await self.session.close()

    async def issue(self, submission: RoutedSubmission, *, instance: str = JUKI) -> IssuanceAnswer:
        body = await self.clients[instance].post_json(
            PATH_ISSUANCES, submission.model_dump(mode="json"), idempotency_key=submission.request.transaction_id
        )
        return IssuanceAnswer.model_validate(body)

    async def complete(self, report: TaggedCompletion, *, instance: str = JUKI) -> CompletionResult:
        """REPORT as the forwarder sends it on: a batch (of one); its result (a refusal is a result, not raised)."""
        return await complete_one(self.clients[instance], report)

    async def complete_batch(self, batch: CompletionBatch, *, instance: str = JUKI) -> CompletionBatchAnswer:
        body = await self.clients[instance].post_json(
            PATH_COMPLETION_BATCHES, batch.model_dump(mode="json"), idempotency_key=batch.batch_id
        )
        return CompletionBatchAnswer.model_validate(body)

    async def get(self, path: str, *, instance: str = JUKI) -> tuple[int, dict[str, Any]]:
        async with self.session.get(self.urls[instance] + path) as response:
            return response.status, await response.json()
