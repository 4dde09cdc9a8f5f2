"""The JPKI status service's logic: the current card CRL and the status of a batch of card certificates."""

from __future__ import annotations

import datetime as dt
import enum
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from yakuba.clock import JST, Clock
from yakuba.errors import ValidationError
from yakuba.jpki.errors import StatusBatchTooLargeError

__all__ = [
    "MAX_STATUS_BATCH",
    "CaRecords",
    "CardStatus",
    "CrlSnapshot",
    "JpkiService",
    "QueryLog",
    "QueryTally",
    "snapshot_of",
]

_log = logging.getLogger("yakuba.jpki")

MAX_STATUS_BATCH = 1000
"""Serials per status query: a relying party checks a queue of requests at once, but one call must stay a few
milliseconds of work and a few tens of KiB, so a misbehaving caller cannot tie up the service."""

_SERIAL = re.compile(r"[0-9A-F]{16}")
"""A card serial as the JPKI stand-in issues them: 16 upper-case hexadecimal digits."""


class CardStatus(enum.StrEnum):
    """What the JPKI knows about one card certificate."""

    GOOD = "good"
    """Issued by the user-authentication CA and not revoked."""
    REVOKED = "revoked"
    """On the CRL: lapsed by a move or a name change, a death, or reported lost."""
    UNKNOWN = "unknown"
    """Never issued by this CA (a made-up or foreign serial)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CrlSnapshot:
    """One published CRL, parsed once: its DER, number, dates and the revoked serials for O(1) lookups."""

    der: bytes
    number: int
    this_update: dt.datetime
    next_update: dt.datetime | None
    revoked: frozenset[int]

    def __repr__(self) -> str:
        # The revoked serials are personal outside J-LIS: never in a repr that may reach a log.
        return f"CrlSnapshot(number={self.number}, revoked={len(self.revoked)})"


def snapshot_of(crl: x509.CertificateRevocationList) -> CrlSnapshot:
    """The snapshot of a parsed (and already signature-checked) CRL."""
    try:
        number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    except x509.ExtensionNotFound:
        number = 0
    return CrlSnapshot(
        der=crl.public_bytes(serialization.Encoding.DER),
        number=number,
        this_update=crl.last_update_utc,
        next_update=crl.next_update_utc,
        revoked=frozenset(entry.serial_number for entry in crl),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class QueryTally:
    """What one query served, for the daily counts: never which serials."""

    day: dt.date
    endpoint: str
    serials: int = 0
    revoked: int = 0


class CaRecords(Protocol):
    """The user-authentication CA's published records (the CRL, the register of issued cards)."""

    def current_crl(self) -> CrlSnapshot:
        """The CRL as published right now (re-read when the file changed)."""

    def was_issued(self, serial: str) -> bool:
        """Whether the CA issued a card certificate with this (normalised) serial."""


class QueryLog(Protocol):
    """Counts of the queries served, per day and endpoint."""

    def record(self, tally: QueryTally) -> None:
        """Add one query's counts to its day."""


class JpkiService:
    """Answers the center's CRL and status queries from the CA's records, counting what it served."""

    def __init__(self, *, records: CaRecords, log: QueryLog, clock: Clock) -> None:
        self._records = records
        self._log = log
        self._clock = clock

    def crl(self, *, known_number: int | None = None) -> tuple[CrlSnapshot, bool]:
        """The current CRL and whether the caller already holds it (its KNOWN_NUMBER is the current one)."""
        snapshot = self._records.current_crl()
        unchanged = known_number is not None and known_number == snapshot.number
        self._log.record(QueryTally(day=self._today(), endpoint="crl"))
        return snapshot, unchanged

    def status(self, serials: Sequence[str]) -> tuple[dict[str, CardStatus], CrlSnapshot]:
        """The status of each card serial (normalised to upper case) against the current CRL.

        1. Refuse an oversized batch (stops one caller from tying up the service).
        2. Refuse a malformed serial, naming its position only (a serial is personal outside J-LIS: never
           echoed in an error or a log).
        3. Revoked if on the CRL; else good if this CA issued it; else unknown (stops a made-up serial
           from passing as good merely because it is not on the CRL).
        4. Count the query per day: how many serials and how many revoked, never which.
        """
        # Step 1
        if len(serials) > MAX_STATUS_BATCH:
            raise StatusBatchTooLargeError(f"at most {MAX_STATUS_BATCH} serials per query")
        # Step 2
        normalised: list[str] = []
        for position, serial in enumerate(serials):
            text = serial.strip().upper()
            if not _SERIAL.fullmatch(text):
                raise ValidationError(
                    f"serial #{position} is not 16 hexadecimal digits",
                    ja=f"{position}番目のシリアル番号が16進数16桁ではありません",
                )
            normalised.append(text)
        # Step 3
        snapshot = self._records.current_crl()
        answer: dict[str, CardStatus] = {}
        for serial in normalised:
            if int(serial, 16) in snapshot.revoked:
                answer[serial] = CardStatus.REVOKED
            elif self._records.was_issued(serial):
                answer[serial] = CardStatus.GOOD
            else:
                answer[serial] = CardStatus.UNKNOWN
        # Step 4
        revoked = sum(1 for status in answer.values() if status is CardStatus.REVOKED)
        self._log.record(QueryTally(day=self._today(), endpoint="status", serials=len(answer), revoked=revoked))
        _log.info("status query: %d serials, %d revoked (CRL #%d)", len(answer), revoked, snapshot.number)
        return answer, snapshot

    def _today(self) -> dt.date:
        return self._clock.now().astimezone(JST).date()
