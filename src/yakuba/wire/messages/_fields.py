"""The field types and limits shared by the wire messages, and their strict, frozen base model."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, PlainValidator

__all__ = [
    "B64",
    "MAX_CERTIFICATE_BYTES",
    "MAX_COPIES",
    "MAX_ENVELOPE_BYTES",
    "MAX_OPTION_ITEMS",
    "CityCode",
    "InstanceId",
    "Kind",
    "TransactionId",
]

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
