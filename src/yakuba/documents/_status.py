"""What the issuer's verification endpoint answers for a serial: genuine, kind, date, revoked; no personal data."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from yakuba.clock import JST
from yakuba.documents._summary import DocumentSummary

__all__ = ["SerialStatus"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SerialStatus:
    """The issuance record of one serial as a receiving company may see it (住所・氏名 never included)."""

    serial: str
    city_code: str
    kind: str
    issued_at: dt.datetime
    content_digest: str
    """Hex SHA-256 of the certified content: lets a holder of the PDF match it without us revealing content."""
    revoked: bool = False

    @classmethod
    def of(cls, summary: DocumentSummary) -> SerialStatus:
        """The record to keep for an issued document (the issuer's log stores exactly this)."""
        return cls(
            serial=summary.serial,
            city_code=summary.city_code,
            kind=summary.kind.value,
            issued_at=summary.issued_at,
            content_digest=summary.content_digest.hex(),
        )

    def answer(self) -> dict[str, str | bool]:
        """The JSON body of `GET /v1/documents/{serial}`: no name, address or other personal data."""
        return {
            "serial": self.serial,
            "genuine": True,
            "city_code": self.city_code,
            "kind": self.kind,
            "issued_on": self.issued_at.astimezone(JST).date().isoformat(),
            "content_digest": self.content_digest,
            "revoked": self.revoked,
        }
