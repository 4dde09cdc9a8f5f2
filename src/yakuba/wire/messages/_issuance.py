"""The issuance request as the card signs it, its submission hop by hop, and the sealed answer."""

from __future__ import annotations

import enum
from typing import Any, Literal

from pydantic import Field

from yakuba.wire.messages._fields import (
    B64,
    MAX_CERTIFICATE_BYTES,
    MAX_COPIES,
    MAX_ENVELOPE_BYTES,
    MAX_OPTION_ITEMS,
    CityCode,
    InstanceId,
    Kind,
    TransactionId,
    _Message,
)

__all__ = [
    "Basis",
    "IssuanceAnswer",
    "IssuanceRequest",
    "IssuanceSubmission",
    "RelayedIssuanceAnswer",
    "RoutedSubmission",
    "TaggedSubmission",
]


class Basis(enum.StrEnum):
    """Which city's registers the request is for."""

    RESIDENCE = "residence"
    """住所地: the city the resident lives in."""
    HONSEKI = "honseki"
    """本籍地: the city holding the family register (needs a prior 利用登録 there)."""


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
