"""Helpers for the kiosk tests: a stand-in HQ that seals a real certificate, rightly or wrongly bound."""

from __future__ import annotations

import datetime as dt
import enum
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, FastAPI, Header

from yakuba.config import Role
from yakuba.documents import IssuedDocument
from yakuba.errors import YakubaError
from yakuba.pki import CardTrust
from yakuba.wire import SealingBinding, allow, build_app, card_fingerprint, request_digest, seal
from yakuba.wire.card_auth import verify_card_authentication
from yakuba.wire.messages import (
    PATH_CHALLENGE_BATCHES,
    PATH_COMPLETION_BATCHES,
    ChallengeAnswer,
    ChallengeBatchAnswer,
    ChallengeBatchAsk,
    CompletionAnswer,
    CompletionBatch,
    CompletionBatchAnswer,
    CompletionReport,
    CompletionResult,
    IssuanceAnswer,
    IssuanceSubmission,
    TaggedSubmission,
)

STORE = "store:midori"
HQ = "midori-hq"
KIOSK = "midori-tanashi-1"
CITY = "132292"
PIN = "1234"
FEE = 200

KeyHeader = Annotated[str | None, Header(alias="Idempotency-Key")]


class Binding(enum.StrEnum):
    """How the stand-in HQ binds the envelope it returns."""

    RIGHT = "right"
    OTHER_TRANSACTION = "other_transaction"
    OTHER_CARD = "other_card"
    OTHER_REQUEST = "other_request"


@dataclass
class StandInHq:
    """What the stand-in HQ saw, and how it answers. It checks the card's signature as the issuer would."""

    document: IssuedDocument
    trust: CardTrust
    binding: Binding = Binding.RIGHT
    fee_yen: int = FEE
    refuse_with: YakubaError | None = None
    challenges: list[bytes] = field(default_factory=list)
    submissions: list[tuple[IssuanceSubmission, str | None]] = field(default_factory=list)
    completions: list[tuple[CompletionReport, str | None]] = field(default_factory=list)
    asks: list[str] = field(default_factory=list)
    tagged: list[TaggedSubmission] = field(default_factory=list)

    def seal_for(self, submission: IssuanceSubmission) -> bytes:
        request = submission.request
        transaction_id = request.transaction_id
        fingerprint = card_fingerprint(submission.card_certificate)
        digest = request_digest(request.signed_form())
        match self.binding:
            case Binding.OTHER_TRANSACTION:
                transaction_id = f"tx-{uuid.uuid4().hex}"
            case Binding.OTHER_CARD:
                fingerprint = card_fingerprint(b"another resident's card")
            case Binding.OTHER_REQUEST:
                digest = request_digest(request.model_copy(update={"copies": request.copies + 1}).signed_form())
            case Binding.RIGHT:
                pass
        binding = SealingBinding(
            transaction_id=transaction_id, card_fingerprint=fingerprint, request_digest=digest, purpose="certificate"
        )
        return seal(self.document.pdf, recipient_public=request.transaction_key, binding=binding)


def hq_app(hq: StandInHq) -> FastAPI:
    """midori's HQ, played by a small app on the store network, answering the contract."""
    router = APIRouter()

    @router.post("/v1/challenges", dependencies=[allow(Role.KIOSK)])
    async def challenges() -> ChallengeAnswer:
        value = secrets.token_bytes(32)
        hq.challenges.append(value)
        expires = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=120)
        return ChallengeAnswer(challenge=value, expires_at=expires.isoformat())

    @router.post("/v1/issuances", dependencies=[allow(Role.KIOSK)])
    async def issuances(body: IssuanceSubmission, idempotency_key: KeyHeader = None) -> IssuanceAnswer:
        hq.submissions.append((body, idempotency_key))
        if hq.refuse_with is not None:
            raise hq.refuse_with
        if body.challenge not in hq.challenges:
            raise YakubaError("unknown challenge")
        verify_card_authentication(
            trust=hq.trust,
            certificate_der=body.card_certificate,
            signature=body.signature,
            challenge=body.challenge,
            request_digest=request_digest(body.request.signed_form()),
            kiosk_id=body.request.kiosk_id,
            now=dt.datetime.now(dt.UTC),
        )
        return IssuanceAnswer(
            transaction_id=body.request.transaction_id,
            envelope=hq.seal_for(body),
            document_serial=hq.document.summary.serial,
            pages=hq.document.pages,
            fee_yen=hq.fee_yen,
            issuer_id="nishitokyo-issuer-juki",
        )

    @router.post("/v1/completions", dependencies=[allow(Role.KIOSK)])
    async def completions(body: CompletionReport, idempotency_key: KeyHeader = None) -> CompletionAnswer:
        hq.completions.append((body, idempotency_key))
        return CompletionAnswer(transaction_id=body.transaction_id, closed=True)

    return build_app(title="stand-in HQ", routers=[router])


def center_app(hq: StandInHq) -> FastAPI:
    """The center on the dedicated line, played by the same stand-in (it seals as the issuer would)."""
    router = APIRouter()

    @router.post(PATH_CHALLENGE_BATCHES, dependencies=[allow(Role.STOREHQ)])
    async def challenge_batches(body: ChallengeBatchAsk) -> ChallengeBatchAnswer:
        answers = []
        for kiosk_id in body.kiosk_ids:
            hq.asks.append(kiosk_id)
            value = secrets.token_bytes(32)
            hq.challenges.append(value)
            expires = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=120)
            answers.append(ChallengeAnswer(challenge=value, expires_at=expires.isoformat()))
        return ChallengeBatchAnswer(challenges=answers)

    @router.post("/v1/issuances", dependencies=[allow(Role.STOREHQ)])
    async def issuances(body: TaggedSubmission, idempotency_key: KeyHeader = None) -> IssuanceAnswer:
        hq.tagged.append(body)
        plain = IssuanceSubmission.model_validate(body.model_dump(exclude={"chain_id"}))
        return IssuanceAnswer(
            transaction_id=body.request.transaction_id,
            envelope=hq.seal_for(plain),
            document_serial=hq.document.summary.serial,
            pages=hq.document.pages,
            fee_yen=hq.fee_yen,
            issuer_id="nishitokyo-issuer-juki",
        )

    @router.post(PATH_COMPLETION_BATCHES, dependencies=[allow(Role.STOREHQ)])
    async def completion_batches(body: CompletionBatch, idempotency_key: KeyHeader = None) -> CompletionBatchAnswer:
        # The real HQ answers its kiosk at once and sends completions on in batches, off the kiosk's path.
        hq.completions.extend((completion, idempotency_key) for completion in body.completions)
        results = [CompletionResult(transaction_id=c.transaction_id, closed=True) for c in body.completions]
        return CompletionBatchAnswer(batch_id=body.batch_id, results=results)

    return build_app(title="stand-in center", routers=[router])
