"""The resident's own issuance history: the signed request, and the sealed answer of each issuer."""

from __future__ import annotations

import enum
from typing import Any, Literal

from pydantic import Field, model_validator

from yakuba.wire.messages._fields import (
    B64,
    MAX_CERTIFICATE_BYTES,
    MAX_COPIES,
    MAX_ENVELOPE_BYTES,
    CityCode,
    InstanceId,
    Kind,
    TransactionId,
    _Message,
)

__all__ = [
    "HISTORY_PURPOSE",
    "MAX_HISTORY_ENVELOPES",
    "MAX_HISTORY_RECORDS",
    "HistoryAnswer",
    "HistoryDocument",
    "HistoryOutcome",
    "HistoryRecord",
    "HistoryRequest",
    "HistorySubmission",
    "TaggedHistorySubmission",
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
