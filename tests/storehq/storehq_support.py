"""Helpers for the store HQ tests: a stand-in center, submissions made to order, a certificate factory."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import ipaddress
import secrets
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from fastapi import APIRouter, FastAPI, Header

from yakuba.config import Deployment, Role, segments
from yakuba.errors import YakubaError
from yakuba.pki import ServiceIdentity, spiffe_uri
from yakuba.storehq import wait_until_reported
from yakuba.wire import allow, build_app
from yakuba.wire.messages import (
    PATH_CHALLENGE_BATCHES,
    PATH_COMPLETION_BATCHES,
    ChallengeAnswer,
    ChallengeAsk,
    ChallengeBatchAnswer,
    ChallengeBatchAsk,
    CompletionBatch,
    CompletionBatchAnswer,
    CompletionResult,
    HistoryAnswer,
    HistoryRequest,
    HistorySubmission,
    IssuanceAnswer,
    IssuanceRequest,
    IssuanceSubmission,
    TaggedCompletion,
    TaggedHistorySubmission,
    TaggedSubmission,
)

STORE = "store:midori"
HQ = "midori-hq"
KIOSK = "midori-tanashi-1"
OTHER_KIOSK = "midori-hibarigaoka-1"
FOREIGN_KIOSK = "aozora-kodaira-1"
CITY = "132292"
FEE = 200

CARD_CERTIFICATE = b"0\x82CARD-CERTIFICATE-SERIAL-9F3A7C21E5B04D68" + secrets.token_bytes(64)
"""Stands in for the card's DER certificate: personal data outside the city, so a marker we look for."""

SIGNATURE = b"CARD-SIGNATURE-" + secrets.token_bytes(64)


KeyHeader = Annotated[str | None, Header(alias="Idempotency-Key")]

DELIVERY_TIMEOUT_S = 30.0
"""Generous: a report normally reaches the stand-in center within milliseconds, a retried one within seconds."""


async def delivered(dep: Deployment) -> None:
    """Wait until midori's HQ has reported every closed line to the center (or fail the test)."""
    assert await wait_until_reported(dep, timeout_s=DELIVERY_TIMEOUT_S, chains={"midori"}) == 0


def new_transaction_id() -> str:
    return f"tx-{uuid.uuid4().hex}"


def submission(
    *, transaction_id: str | None = None, kiosk_id: str = KIOSK, copies: int = 2, kind: str = "juminhyo"
) -> IssuanceSubmission:
    request = IssuanceRequest(
        transaction_id=transaction_id or new_transaction_id(),
        kiosk_id=kiosk_id,
        city=CITY,
        kind=kind,
        options={"show_relationship": True, "members": [0, 2]},
        copies=copies,
        transaction_key=secrets.token_bytes(32),
        requested_at="2025-11-26T01:30:00+00:00",
    )
    return IssuanceSubmission(
        request=request, challenge=secrets.token_bytes(32), card_certificate=CARD_CERTIFICATE, signature=SIGNATURE
    )


def history_submission(*, kiosk_id: str = KIOSK, transaction_id: str | None = None) -> HistorySubmission:
    request = HistoryRequest(
        transaction_id=transaction_id or new_transaction_id(),
        kiosk_id=kiosk_id,
        city=CITY,
        transaction_key=secrets.token_bytes(32),
        requested_at="2025-11-26T01:30:00+00:00",
    )
    return HistorySubmission(
        request=request, challenge=secrets.token_bytes(32), card_certificate=CARD_CERTIFICATE, signature=SIGNATURE
    )


def envelope_for(transaction_id: str) -> bytes:
    """A fake sealed envelope: the HQ never opens one, it only passes it on."""
    return b"YKSL\x01" + transaction_id.encode() + secrets.token_bytes(48)


@dataclass
class StandInCenter:
    """What the stand-in center saw, and how it should answer."""

    asks: list[ChallengeAsk] = field(default_factory=list)
    """Every kiosk a challenge was issued for, one per entry of each challenge call, in order."""
    challenge_calls: list[ChallengeBatchAsk] = field(default_factory=list)
    """Every challenge call as it arrived (before it is held or refused)."""
    issued: dict[bytes, str] = field(default_factory=dict)
    """challenge value -> the kiosk it was issued to."""
    challenge_gate: asyncio.Event | None = None
    """When set, a challenge call is answered only once the event is set (a call held on the line)."""
    refuse_challenges_with: YakubaError | None = None
    """The error the next challenge call fails with (then cleared: the call after works)."""
    extra_challenges: int = 0
    """Answer this many challenges more than asked for, for the last entry's kiosk (a broken center)."""
    submissions: list[tuple[TaggedSubmission, str | None]] = field(default_factory=list)
    completions: list[tuple[TaggedCompletion, str | None]] = field(default_factory=list)
    """Every completion it took from a batch, with the batch's Idempotency-Key."""
    batches: list[tuple[CompletionBatch, str | None]] = field(default_factory=list)
    answers: dict[str, IssuanceAnswer] = field(default_factory=dict)
    histories: list[tuple[TaggedHistorySubmission, str | None]] = field(default_factory=list)
    answer_for_other_transaction: bool = False
    refuse_with: YakubaError | None = None
    answer_for_other_batch: bool = False
    refuse_batches_with: YakubaError | None = None
    refused_items: dict[str, str] = field(default_factory=dict)
    """transaction id -> the error code of a final refusal of its completion."""
    transient_items: dict[str, int] = field(default_factory=dict)
    """transaction id -> how many more times its city is "not reached" (retry=True)."""
    gate: asyncio.Event | None = None
    """When set, a batch is answered only once the event is set (a slow center, a slow city)."""

    async def answer_challenges(self, body: ChallengeBatchAsk) -> ChallengeBatchAnswer:
        """The center's challenge contract: one fresh challenge per entry, in order, bound to its kiosk."""
        self.challenge_calls.append(body)
        if self.challenge_gate is not None:
            await self.challenge_gate.wait()
        if self.refuse_challenges_with is not None:
            error, self.refuse_challenges_with = self.refuse_challenges_with, None
            raise error
        answers = []
        for kiosk_id in body.kiosk_ids + body.kiosk_ids[-1:] * self.extra_challenges:
            value = secrets.token_bytes(32)
            self.asks.append(ChallengeAsk(kiosk_id=kiosk_id))
            self.issued[value] = kiosk_id
            answers.append(ChallengeAnswer(challenge=value, expires_at="2025-11-26T01:32:00+00:00"))
        return ChallengeBatchAnswer(challenges=answers)

    def closed_once(self) -> dict[str, int]:
        """How many times each transaction was taken (the first closes it; the others answer closed=false)."""
        seen: dict[str, int] = {}
        for completion, _ in self.completions:
            seen[completion.transaction_id] = seen.get(completion.transaction_id, 0) + 1
        return seen

    async def answer_batch(self, batch: CompletionBatch, key: str | None) -> CompletionBatchAnswer:
        """The center's batch contract: one result per item, in order, each judged on its own; idempotent."""
        self.batches.append((batch, key))
        if self.gate is not None:
            await self.gate.wait()
        if self.refuse_batches_with is not None:
            raise self.refuse_batches_with
        results = []
        for completion in batch.completions:
            tx = completion.transaction_id
            if tx in self.refused_items:
                results.append(CompletionResult(transaction_id=tx, error=self.refused_items[tx]))
            elif self.transient_items.get(tx, 0) > 0:
                self.transient_items[tx] -= 1
                results.append(CompletionResult(transaction_id=tx, error="upstream_error", retry=True))
            else:
                first = tx not in self.closed_once()
                self.completions.append((completion, key))
                results.append(CompletionResult(transaction_id=tx, closed=first))
        batch_id = f"batch-{secrets.token_hex(16)}" if self.answer_for_other_batch else batch.batch_id
        return CompletionBatchAnswer(batch_id=batch_id, results=results)


def center_app(center: StandInCenter) -> FastAPI:
    """A center on the dedicated line answering the contract; idempotent on the transaction id like the real one.
    Completions come only in batches now: the HQ no longer relays a single completion."""
    router = APIRouter()

    @router.post(PATH_CHALLENGE_BATCHES, dependencies=[allow(Role.STOREHQ)])
    async def challenge_batches(body: ChallengeBatchAsk) -> ChallengeBatchAnswer:
        return await center.answer_challenges(body)

    @router.post("/v1/issuances", dependencies=[allow(Role.STOREHQ)])
    async def issuances(body: TaggedSubmission, idempotency_key: KeyHeader = None) -> IssuanceAnswer:
        center.submissions.append((body, idempotency_key))
        if center.refuse_with is not None:
            raise center.refuse_with
        tx = body.request.transaction_id
        if tx not in center.answers:
            center.answers[tx] = IssuanceAnswer(
                transaction_id=new_transaction_id() if center.answer_for_other_transaction else tx,
                envelope=envelope_for(tx),
                document_serial="0001-00000042",
                pages=1,
                fee_yen=FEE,
                issuer_id="nishitokyo-issuer-juki",
            )
        return center.answers[tx]

    @router.post(PATH_COMPLETION_BATCHES, dependencies=[allow(Role.STOREHQ)])
    async def completion_batches(body: CompletionBatch, idempotency_key: KeyHeader = None) -> CompletionBatchAnswer:
        return await center.answer_batch(body, idempotency_key)

    @router.post("/v1/history", dependencies=[allow(Role.STOREHQ)])
    async def history(body: TaggedHistorySubmission, idempotency_key: KeyHeader = None) -> HistoryAnswer:
        center.histories.append((body, idempotency_key))
        if center.refuse_with is not None:
            raise center.refuse_with
        tx = body.request.transaction_id
        answered = new_transaction_id() if center.answer_for_other_transaction else tx
        return HistoryAnswer(transaction_id=answered, envelopes=[envelope_for(tx), envelope_for(tx)])

    return build_app(title="stand-in center", routers=[router])


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def issue_identity(
    dep: Deployment, folder: Path, *, role: Role, instance: str, segment_id: str = STORE
) -> ServiceIdentity:
    """A service certificate signed by SEGMENT_ID's CA for any role and instance (for refusal tests)."""
    stem = next(s.file_stem for s in segments(dep) if s.id == segment_id)
    ca_cert = x509.load_pem_x509_certificate((dep.key_dir / "ca" / f"{stem}.crt").read_bytes())
    ca_key = serialization.load_pem_private_key((dep.key_dir / "ca" / f"{stem}.key").read_bytes(), None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    sans: list[x509.GeneralName] = [
        x509.UniformResourceIdentifier(spiffe_uri(deployment=dep.deployment.name, role=role.value, instance=instance)),
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
    ]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, instance)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert_path, key_path = folder / f"{instance}.crt", folder / f"{instance}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_path.chmod(0o600)
    return ServiceIdentity(
        deployment=dep.deployment.name,
        segment_id=segment_id,
        role=role,
        instance=instance,
        cert_path=cert_path,
        key_path=key_path,
        ca_path=dep.key_dir / "ca" / f"{stem}.crt",
    )
