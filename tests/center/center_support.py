"""Helpers for the center tests: a stand-in forwarder, a kiosk that signs with a virtual card, test clocks."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from tests.wire.batch_support import complete_one

from yakuba.clock import JST, FixedClock
from yakuba.config import Deployment, Role
from yakuba.errors import EligibilityError
from yakuba.pki.card import CardInfo, VirtualCardReader
from yakuba.wire import IDEMPOTENCY_KEY_HEADER, ServiceClient, TransactionKey, allow, build_app
from yakuba.wire.card_auth import card_auth_digest
from yakuba.wire.digest import request_digest
from yakuba.wire.messages import (
    PATH_CHALLENGES,
    PATH_COMPLETION_BATCHES,
    PATH_ISSUANCES,
    Basis,
    ChallengeAnswer,
    ChallengeAsk,
    CompletionBatch,
    CompletionBatchAnswer,
    CompletionResult,
    HistoryAnswer,
    IssuanceAnswer,
    IssuanceRequest,
    Outcome,
    RoutedSubmission,
    TaggedCompletion,
    TaggedHistorySubmission,
    TaggedSubmission,
)

NISHITOKYO = "132292"
KODAIRA = "132110"
PIN = "4321"
CHAIN = "midori"
HQ = "midori-hq"
KIOSK = "midori-tanashi-1"
OTHER_KIOSK = "midori-hibarigaoka-1"
OTHER_CHAIN = "aozora"
OTHER_CHAIN_KIOSK = "aozora-kodaira-1"
ENVELOPE = b"\x01sealed for the kiosk transaction key only" * 4


def open_moment(now: dt.datetime) -> dt.datetime:
    """The next 10:00 JST after NOW (plus a minute) outside 29 Dec - 3 Jan: in service hours, and at most
    seven days ahead, so the certificates and the CRL made now are still in date."""
    local = (now + dt.timedelta(minutes=1)).astimezone(JST)
    day = local.date() if local.time() < dt.time(10, 0) else local.date() + dt.timedelta(days=1)
    while (day.month, day.day) in {(12, 29), (12, 30), (12, 31), (1, 1), (1, 2), (1, 3)}:
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(10, 0), tzinfo=JST)


def new_clock() -> FixedClock:
    return FixedClock(open_moment(dt.datetime.now(dt.UTC)))


@dataclass
class Seen:
    """What a stand-in forwarder received, and how it should answer."""

    city: str
    issuances: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)
    histories: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)
    batches: list[tuple[dict[str, str], CompletionBatch]] = field(default_factory=list)
    mode: str = "ok"
    """ok | ineligible | boom | other_transaction | other_fee | other_batch (a batch answered with another
    batch's id)"""
    refuse: dict[str, str] = field(default_factory=dict)
    """Transaction id -> the error code the city answers for that report of a batch."""
    closed: set[str] = field(default_factory=set)
    """Transactions the city closed through a batch (a repeated report answers closed=false)."""

    def forwarded(self) -> list[str]:
        """The transaction ids of every report the center sent on, batch after batch, in order."""
        return [c.transaction_id for _headers, batch in self.batches for c in batch.completions]


def forwarder_app(seen: Seen) -> FastAPI:
    """A city's forwarder as the center sees it: takes RoutedSubmission and CompletionBatch, answers the contract."""
    router = APIRouter(prefix="/v1")

    @router.post("/issuances", dependencies=[allow(Role.CENTER)])
    async def issuances(request: Request, body: RoutedSubmission) -> IssuanceAnswer:
        seen.issuances.append((dict(request.headers), body.model_dump(mode="json")))
        if seen.mode == "ineligible":
            raise EligibilityError()
        if seen.mode == "boom":
            raise RuntimeError("the issuer fell over")
        tx = body.request.transaction_id
        return IssuanceAnswer(
            transaction_id=f"tx-{uuid.uuid4().hex}" if seen.mode == "other_transaction" else tx,
            envelope=ENVELOPE,
            document_serial="NT-0001-" + tx[3:11].upper(),
            pages=1,
            fee_yen=body.fee_yen + (10 if seen.mode == "other_fee" else 0),
            issuer_id="nishitokyo-issuer-juki",
        )

    @router.post(PATH_COMPLETION_BATCHES.removeprefix("/v1"), dependencies=[allow(Role.CENTER)])
    async def completion_batches(request: Request, body: CompletionBatch) -> CompletionBatchAnswer:
        seen.batches.append((dict(request.headers), body))
        if seen.mode == "boom":
            raise RuntimeError("the forwarder fell over")
        results = []
        for item in body.completions:
            tx = item.transaction_id
            if tx in seen.refuse:
                results.append(CompletionResult(transaction_id=tx, error=seen.refuse[tx]))
            else:
                results.append(CompletionResult(transaction_id=tx, closed=tx not in seen.closed))
                seen.closed.add(tx)
        batch_id = f"batch-{uuid.uuid4().hex}" if seen.mode == "other_batch" else body.batch_id
        return CompletionBatchAnswer(batch_id=batch_id, results=results)

    @router.post("/history", dependencies=[allow(Role.CENTER)])
    async def history(request: Request, body: TaggedHistorySubmission) -> HistoryAnswer:
        seen.histories.append((dict(request.headers), body.model_dump(mode="json")))
        tx = body.request.transaction_id
        other = f"tx-{uuid.uuid4().hex}" if seen.mode == "other_transaction" else tx
        return HistoryAnswer(transaction_id=other, envelopes=[ENVELOPE, ENVELOPE])

    return build_app(title=f"stand-in forwarder {seen.city}", routers=[router])


def with_addresses(
    dep: Deployment, *, jpki_port: int, forwarder_ports: dict[str, int], center_db: str, jpki_db: str
) -> Deployment:
    """DEP with the JPKI and forwarders where the test servers listen, and databases of the test's own."""
    cities = tuple(
        city.model_copy(update={"forwarder": city.forwarder.model_copy(update={"port": forwarder_ports[city.code]})})
        for city in dep.cities
    )
    return dep.model_copy(
        update={
            "cities": cities,
            "jpki": dep.jpki.model_copy(update={"port": jpki_port, "database": jpki_db}),
            "center": dep.center.model_copy(update={"database": center_db}),
        }
    )


@dataclass
class Kiosk:
    """A kiosk of the midori chain reaching the center through its HQ's client, signing with a virtual card."""

    dep: Deployment
    hq: ServiceClient
    clock: FixedClock
    chain_id: str = CHAIN

    async def challenge(self, kiosk_id: str = KIOSK) -> bytes:
        answer = await self.hq.post_json(
            PATH_CHALLENGES, ChallengeAsk(kiosk_id=kiosk_id).model_dump(mode="json"), idempotency_key=None
        )
        return ChallengeAnswer.model_validate(answer).challenge

    def request(
        self,
        *,
        kiosk_id: str = KIOSK,
        city: str = NISHITOKYO,
        kind: str = "juminhyo",
        copies: int = 1,
        options: dict[str, Any] | None = None,
        basis: Basis = Basis.RESIDENCE,
        transaction_id: str | None = None,
    ) -> IssuanceRequest:
        return IssuanceRequest(
            transaction_id=transaction_id or f"tx-{uuid.uuid4().hex}",
            kiosk_id=kiosk_id,
            city=city,
            basis=basis,
            kind=kind,
            options=options or {},
            copies=copies,
            transaction_key=TransactionKey.generate().public_bytes(),
            requested_at=self.clock.now().isoformat(),
        )

    def sign(
        self, card: CardInfo, request: IssuanceRequest, challenge: bytes, *, chain_id: str | None = None
    ) -> TaggedSubmission:
        with VirtualCardReader.open(self.dep, path=card.path) as reader:
            reader.select_jpki_ap()
            certificate = reader.read_auth_certificate()
            reader.verify_pin(PIN)
            digest = card_auth_digest(
                challenge=challenge, request_digest=request_digest(request.signed_form()), kiosk_id=request.kiosk_id
            )
            signature = reader.sign_digest(digest)
        return TaggedSubmission(
            request=request,
            challenge=challenge,
            card_certificate=certificate,
            signature=signature,
            chain_id=chain_id or self.chain_id,
        )

    async def signed(self, card: CardInfo, **request_fields: Any) -> TaggedSubmission:
        request = self.request(**request_fields)
        return self.sign(card, request, await self.challenge(request.kiosk_id))

    async def submit(self, submission: TaggedSubmission) -> IssuanceAnswer:
        answer = await self.hq.post_json(
            PATH_ISSUANCES,
            submission.model_dump(mode="json"),
            idempotency_key=submission.request.transaction_id,
        )
        return IssuanceAnswer.model_validate(answer)

    async def complete(
        self,
        submission: TaggedSubmission,
        *,
        outcome: Outcome = Outcome.PRINTED,
        printed: int | None = None,
        voided: int = 0,
    ) -> CompletionResult:
        """The HQ sends the kiosk's report on, as its outbox does: a batch (of one); the report's result."""
        request = submission.request
        completion = TaggedCompletion(
            transaction_id=request.transaction_id,
            outcome=outcome,
            copies_printed=request.copies if printed is None else printed,
            copies_voided=voided,
            chain_id=submission.chain_id,
            kiosk_id=request.kiosk_id,
            city=request.city,
            kind=request.kind,
        )
        return await complete_one(self.hq, completion)


def header(headers: dict[str, str], name: str = IDEMPOTENCY_KEY_HEADER) -> str | None:
    return {k.lower(): v for k, v in headers.items()}.get(name.lower())
