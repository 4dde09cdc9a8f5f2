"""The messages of the issuance chain, hop by hop: one schema per body, shared by every role that sends or relays it.

The flow (architecture.md, "Request flow"):

1. ``POST /v1/challenges``   kiosk -> HQ -> center. The center answers a one-time challenge for that kiosk.
2. ``POST /v1/issuances``    kiosk -> HQ -> center -> forwarder -> issuer. The body carries the resident's
   ``IssuanceRequest`` (what they chose, and the kiosk's one-time X25519 transaction key), the challenge, the
   card's certificate and its signature over ``card_auth_digest(challenge, request_digest(request), kiosk)``.
   Relays add only their tags (chain, store); they never change ``request``, so the issuer can check the card
   signature again itself. The answer is a sealed envelope that only that kiosk transaction can open.
3. ``POST /v1/completions``  kiosk -> HQ only. The outcome (printed / voided / abandoned, copies) closes the
   HQ's billing line; the HQ's outbox sends it on in ``POST /v1/completion-batches`` HQ -> center -> forwarder
   -> issuer, which close the center's settlement line and the issuer's log entry.

Every hop sends ``Idempotency-Key: <transaction_id>`` (``yakuba.wire.IDEMPOTENCY_KEY_HEADER``): a role that
sees a transaction id again answers what it answered the first time and never issues twice.

4. ``POST /v1/history``     kiosk -> HQ -> center -> forwarder -> every issuer of the city. A resident's own
   issuance history: a ``HistoryRequest`` signed by the card exactly as an issuance is, checked by the center
   (challenge, card, CRL) and again by each issuer, which answers its part SEALED to the kiosk's transaction
   key under ``SealingBinding(..., purpose=HISTORY_PURPOSE)``; the forwarder returns one envelope per issuer.

Nothing personal is in any of these messages outside the sealed envelope: the request names a city, a kind,
options and member *positions*, never a name; the card certificate carries only a serial.
"""

from __future__ import annotations

import base64
import enum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, PlainValidator, model_validator

__all__ = [
    "BATCH_ID_PREFIX",
    "HISTORY_PURPOSE",
    "MAX_CHALLENGE_BATCH",
    "MAX_COMPLETION_BATCH",
    "MAX_COPIES",
    "MAX_HISTORY_ENVELOPES",
    "MAX_HISTORY_RECORDS",
    "PATH_CHALLENGES",
    "PATH_CHALLENGE_BATCHES",
    "PATH_COMPLETIONS",
    "PATH_COMPLETION_BATCHES",
    "PATH_HISTORY",
    "PATH_ISSUANCES",
    "Basis",
    "ChallengeAnswer",
    "ChallengeAsk",
    "ChallengeBatchAnswer",
    "ChallengeBatchAsk",
    "CompletionAnswer",
    "CompletionBatch",
    "CompletionBatchAnswer",
    "CompletionReport",
    "CompletionResult",
    "HistoryAnswer",
    "HistoryDocument",
    "HistoryOutcome",
    "HistoryRecord",
    "HistoryRequest",
    "HistorySubmission",
    "IssuanceAnswer",
    "IssuanceRequest",
    "IssuanceSubmission",
    "Outcome",
    "RelayedIssuanceAnswer",
    "RoutedSubmission",
    "TaggedCompletion",
    "TaggedHistorySubmission",
    "TaggedSubmission",
]

PATH_CHALLENGES = "/v1/challenges"
PATH_CHALLENGE_BATCHES = "/v1/challenge-batches"
PATH_ISSUANCES = "/v1/issuances"
PATH_COMPLETIONS = "/v1/completions"
PATH_COMPLETION_BATCHES = "/v1/completion-batches"
PATH_HISTORY = "/v1/history"

MAX_COPIES = 10
"""Copies of one certificate per transaction; the real kiosks cap a transaction at about ten."""

MAX_OPTION_ITEMS = 16
"""Options and chosen members per request; a household certificate lists at most this many chosen members."""

MAX_CERTIFICATE_BYTES = 4096
"""A card's DER certificate is about 1.2 KB; anything much larger is not a card certificate."""

MAX_ENVELOPE_BYTES = 8 * 1024 * 1024
"""A sealed certificate: a few pages of PDF with a seal image and a QR are well under 1 MB."""


def _b64decode(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if not isinstance(value, str):
        raise ValueError("must be a base64 string")
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError) as exc:
        raise ValueError("must be standard base64") from exc


def _b64encode(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


B64 = Annotated[bytes, PlainValidator(_b64decode), PlainSerializer(_b64encode, return_type=str)]
"""Bytes that travel as standard base64 in JSON."""

InstanceId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
TransactionId = Annotated[str, Field(pattern=r"^tx-[0-9a-f]{32}$")]
CityCode = Annotated[str, Field(pattern=r"^\d{6}$")]
Kind = Annotated[str, Field(pattern=r"^[a-z][a-z-]{1,31}$", description="a yakuba.documents.DocumentKind value")]


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Basis(enum.StrEnum):
    """Which city's registers the request is for."""

    RESIDENCE = "residence"
    """住所地: the city the resident lives in."""
    HONSEKI = "honseki"
    """本籍地: the city holding the family register (needs a prior 利用登録 there)."""


class Outcome(enum.StrEnum):
    """How a transaction ended at the kiosk."""

    PRINTED = "printed"
    """At least one copy printed and was charged."""
    JAM_VOIDED = "jam_voided"
    """Every copy jammed: stamped 無効 and destroyed, nothing charged."""
    ABANDONED = "abandoned"
    """Refused before printing (binding or signature check failed, payment cancelled, timeout): nothing charged."""


class IssuanceRequest(_Message):
    """What the resident asked for, exactly as the card signed it (its RFC 8785 digest is signed)."""

    v: Literal[1] = 1
    transaction_id: TransactionId
    kiosk_id: InstanceId
    city: CityCode
    basis: Basis = Basis.RESIDENCE
    kind: Kind
    options: dict[str, bool | int | str | list[int]] = Field(default_factory=dict, max_length=MAX_OPTION_ITEMS)
    """Kind-specific choices, e.g. {"show_honseki": true, "members": [0, 2]} (member positions, never names)."""
    copies: int = Field(ge=1, le=MAX_COPIES)
    transaction_key: B64 = Field(description="the kiosk's one-time X25519 public key, 32 bytes")
    requested_at: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")

    def signed_form(self) -> dict[str, Any]:
        """The JSON object whose request_digest the card signs (bytes as base64)."""
        return self.model_dump(mode="json")


class ChallengeAsk(_Message):
    """HQ -> center: a challenge for one of its kiosks (the kiosk's own call to HQ has an empty body)."""

    kiosk_id: InstanceId


class ChallengeAnswer(_Message):
    """A one-time challenge (single use, CHALLENGE_TTL) for one kiosk."""

    challenge: B64
    expires_at: str


MAX_CHALLENGE_BATCH = 64
"""Challenges asked for at once: the asks of one HQ's kiosks that arrived while its previous ask was on the
line (the HQ never asks for a challenge no kiosk asked for: nothing is issued ahead of need)."""


class ChallengeBatchAsk(_Message):
    """HQ -> center: challenges for several of its kiosks at once, one per entry (a kiosk may appear more than
    once: two residents at one kiosk in a moment is impossible, but a kiosk's retry after a lost answer is not)."""

    kiosk_ids: list[InstanceId] = Field(min_length=1, max_length=MAX_CHALLENGE_BATCH)


class ChallengeBatchAnswer(_Message):
    """One challenge per entry of the ask, in its order, each bound to that entry's kiosk."""

    challenges: list[ChallengeAnswer] = Field(min_length=1, max_length=MAX_CHALLENGE_BATCH)


class IssuanceSubmission(_Message):
    """kiosk -> HQ: the signed request."""

    request: IssuanceRequest
    challenge: B64
    card_certificate: B64 = Field(max_length=MAX_CERTIFICATE_BYTES * 2)
    signature: B64


class TaggedSubmission(IssuanceSubmission):
    """HQ -> center: the kiosk's submission tagged with the chain (HQ checked the kiosk's certificate)."""

    chain_id: InstanceId


class RoutedSubmission(IssuanceSubmission):
    """center -> forwarder -> issuer: the submission after the center's checks, with the fee it charges."""

    chain_id: InstanceId
    fee_yen: int = Field(ge=0, le=100_000)


class IssuanceAnswer(_Message):
    """issuer -> ... -> kiosk: the sealed certificate; relays pass it back untouched."""

    transaction_id: TransactionId
    envelope: B64 = Field(description="HPKE envelope (yakuba.wire.sealing), opened only by the kiosk's key")
    document_serial: str = Field(pattern=r"^[A-Z0-9-]{4,40}$")
    pages: int = Field(ge=1, le=100)
    fee_yen: int = Field(ge=0, le=100_000, description="per copy")
    issuer_id: InstanceId


class RelayedIssuanceAnswer(_Message):
    """An IssuanceAnswer as the relays (HQ, center, forwarder) handle it: the envelope stays the base64 text
    the issuer wrote, passed on untouched and never decoded (a relay cannot open it anyway; decoding and
    re-encoding ~80 kB at each of three relays cost CPU for nothing). The kiosk reads the same JSON as an
    IssuanceAnswer and checks the base64 there. Everything a relay checks (transaction, fee, issuer) is parsed."""

    transaction_id: TransactionId
    envelope: str = Field(
        max_length=(MAX_ENVELOPE_BYTES + 2) // 3 * 4,
        description="HPKE envelope (yakuba.wire.sealing) as standard base64, opened only by the kiosk's key",
    )
    document_serial: str = Field(pattern=r"^[A-Z0-9-]{4,40}$")
    pages: int = Field(ge=1, le=100)
    fee_yen: int = Field(ge=0, le=100_000, description="per copy")
    issuer_id: InstanceId


class CompletionReport(_Message):
    """kiosk -> HQ: how the transaction ended. The HQ answers once its billing line is closed (durable); the
    center, the city's forwarder and the issuer hear of it from the HQ's outbox moments later."""

    transaction_id: TransactionId
    outcome: Outcome
    copies_printed: int = Field(ge=0, le=MAX_COPIES)
    copies_voided: int = Field(ge=0, le=MAX_COPIES)
    reason: str = Field(default="", max_length=64, pattern=r"^[a-z0-9_]*$", description="a code, never free text")


class TaggedCompletion(CompletionReport):
    """HQ -> center -> forwarder -> issuer: the completion with the routing the relays need. The HQ builds it
    from its own closed billing line and sends it on in a CompletionBatch from its outbox, after the kiosk was
    answered (yakuba.storehq._reporter)."""

    chain_id: InstanceId
    kiosk_id: InstanceId
    city: CityCode
    kind: Kind


class CompletionAnswer(_Message):
    """Acknowledgement; ``closed`` is false when the transaction was already closed (a retried report)."""

    transaction_id: TransactionId
    closed: bool


# -- completions in batches (HQ -> center -> forwarder -> issuer) ------------------------------------------

MAX_COMPLETION_BATCH = 100
"""Completions in one batch: a tenth of a second of a busy chain; small enough that one batch is one short
database transaction at each hop."""

BATCH_ID_PREFIX = "batch-"
"""A batch travels under ``Idempotency-Key: batch-<32 hex>``; every completion in it is idempotent by itself
(a repeated one answers ``closed=false``), so a retried batch changes nothing twice."""

BatchId = Annotated[str, Field(pattern=r"^batch-[0-9a-f]{32}$")]


class CompletionBatch(_Message):
    """HQ -> center -> forwarder -> issuer: completions the kiosks reported, sent on together off the resident's
    path. Each item is judged on its own; one refused item never refuses the others."""

    batch_id: BatchId
    completions: list[TaggedCompletion] = Field(min_length=1, max_length=MAX_COMPLETION_BATCH)

    @model_validator(mode="after")
    def _distinct(self) -> CompletionBatch:
        ids = [c.transaction_id for c in self.completions]
        if len(set(ids)) != len(ids):
            raise ValueError("a transaction appears twice in one batch")
        return self


class CompletionResult(_Message):
    """What became of one completion of a batch.

    Exactly one of: ``closed`` (accepted: true when this report closed the transaction, false when it was
    closed already), or ``error`` (the code of the error that refused this report). ``retry`` tells
    a transient error (a city that could not be reached: send it again later) from a final refusal (a report
    that does not match its transaction: resending it will never help; the operator must look).
    """

    transaction_id: TransactionId
    closed: bool | None = None
    error: str | None = Field(default=None, pattern=r"^[a-z0-9_]{1,64}$")
    retry: bool = False

    @model_validator(mode="after")
    def _one_of(self) -> CompletionResult:
        if (self.closed is None) == (self.error is None):
            raise ValueError("a result is either closed or an error")
        if self.retry and self.error is None:
            raise ValueError("only an error can be retried")
        return self


class CompletionBatchAnswer(_Message):
    """One result per completion of the batch, in the batch's order."""

    batch_id: BatchId
    results: list[CompletionResult] = Field(min_length=1, max_length=MAX_COMPLETION_BATCH)

    def matches(self, batch: CompletionBatch) -> bool:
        """Whether this answers BATCH: same batch id, and a result for each completion, in order (a relay or
        a peer mixing up batches must not close the wrong transactions)."""
        return self.batch_id == batch.batch_id and [r.transaction_id for r in self.results] == [
            c.transaction_id for c in batch.completions
        ]


# -- the resident's own history (issue 6, part 6) ----------------------------------------------------------

HISTORY_PURPOSE = "history"
"""The purpose bound into a history envelope's seal: a certificate envelope never opens as a history, nor
the reverse."""

MAX_HISTORY_ENVELOPES = 8
"""Envelopes in one history answer: one per issuer of the city (a city runs one per back-office system,
two today); more means a relay added something."""

MAX_HISTORY_RECORDS = 1000
"""Records in one issuer's history: yakuba.audit's MAX_HISTORY_ENTRIES (decades of certificates)."""


class HistoryRequest(_Message):
    """A resident's request for their own issuance history, exactly as the card signed it.

    ``purpose`` is in the signed form so that a signature over a history request can never be taken for a
    signature over an issuance request, nor the reverse (domain separation; the two forms differ anyway).
    """

    v: Literal[1] = 1
    purpose: Literal["history"] = "history"
    transaction_id: TransactionId
    kiosk_id: InstanceId
    city: CityCode
    transaction_key: B64 = Field(description="the kiosk's one-time X25519 public key, 32 bytes")
    requested_at: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")

    def signed_form(self) -> dict[str, Any]:
        """The JSON object whose request_digest the card signs (bytes as base64)."""
        return self.model_dump(mode="json")


class HistorySubmission(_Message):
    """kiosk -> HQ: the signed history request."""

    request: HistoryRequest
    challenge: B64
    card_certificate: B64 = Field(max_length=MAX_CERTIFICATE_BYTES * 2)
    signature: B64


class TaggedHistorySubmission(HistorySubmission):
    """HQ -> center -> forwarder -> issuer: the history request tagged with the chain (no fee: nothing is sold)."""

    chain_id: InstanceId


class HistoryAnswer(_Message):
    """issuer(s) -> ... -> kiosk: one sealed envelope per issuer of the city; relays pass them back untouched.

    Each envelope opens (kiosk's transaction key, binding purpose HISTORY_PURPOSE) to a ``HistoryDocument``.
    """

    transaction_id: TransactionId
    envelopes: list[B64] = Field(min_length=1, max_length=MAX_HISTORY_ENVELOPES)

    @model_validator(mode="after")
    def _bounded(self) -> HistoryAnswer:
        if any(len(envelope) > MAX_ENVELOPE_BYTES for envelope in self.envelopes):
            raise ValueError("a history envelope is too large")
        return self


class HistoryOutcome(enum.StrEnum):
    """How an issuance about the resident ended, as their history shows it (never why it was refused)."""

    ISSUED = "issued"
    """Issued and sent to the kiosk; the kiosk has not reported the outcome (yet)."""
    PRINTED = "printed"
    JAM_VOIDED = "jam_voided"
    ABANDONED = "abandoned"
    REFUSED = "refused"
    """Refused after the card was verified; the reason is not part of the history."""


class HistoryRecord(_Message):
    """One issuance about the resident: when, what kind, where and how it ended. Never content, never a reason."""

    at: str = Field(description="ISO 8601 time in JST (+09:00)")
    kind: Kind
    city: CityCode
    kiosk_id: InstanceId
    chain_id: InstanceId
    store: str = Field(default="", max_length=100, description="the kiosk's location, as configured")
    outcome: HistoryOutcome
    copies: int = Field(ge=0, le=MAX_COPIES)
    """Copies printed when the outcome is printed; copies asked for otherwise."""


class HistoryDocument(_Message):
    """The plaintext of one history envelope: one issuer's records about the card's holder, oldest first."""

    v: Literal[1] = 1
    transaction_id: TransactionId
    city: CityCode
    issuer_id: InstanceId
    records: list[HistoryRecord] = Field(max_length=MAX_HISTORY_RECORDS)
