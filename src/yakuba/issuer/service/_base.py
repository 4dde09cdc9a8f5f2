"""What every call of the issuer shares: its limits and codes, its seams, and the card verified again here."""

from __future__ import annotations

import datetime as dt

from cryptography import x509

from yakuba.clock import Clock
from yakuba.config import CityConfig
from yakuba.issuer.audit_trail import IssuerAudit
from yakuba.issuer.log_entry import serial_prefix
from yakuba.issuer.person_hash import PersonHasher
from yakuba.issuer.planning import CertificatePlanner
from yakuba.issuer.ports import CardTrustSource, DocumentPress, IssuanceLog, RegistrySource, ServiceControlSource
from yakuba.wire.card_auth import verify_card_authentication
from yakuba.wire.digest import request_digest
from yakuba.wire.messages import RoutedSubmission, TaggedHistorySubmission
from yakuba.wire.sealing import card_fingerprint

__all__ = [
    "CITY_ALLOWS_INDIVIDUAL_NUMBER",
    "INTERRUPTED",
    "INTERRUPTED_AFTER",
    "RENDER_FAILED",
    "SEALING_PURPOSE",
    "ServiceBase",
]

CITY_ALLOWS_INDIVIDUAL_NUMBER = True
"""Whether 住民票の写し may show 個人番号 when the resident asks; the deployment configuration has no
per-city setting for it yet, and the nationwide service offers the option."""

SEALING_PURPOSE = "certificate"
"""The purpose bound into every seal: the kiosk opens certificates with this purpose only."""

RENDER_FAILED = "render_failed"
"""yakuba.documents' code for a layout typst rejected (a template bug, never the resident's fault)."""

INTERRUPTED = "interrupted"
"""The reason of an entry whose process died between the reservation and the answer (see INTERRUPTED_AFTER)."""

INTERRUPTED_AFTER = dt.timedelta(minutes=10)
"""How long an entry may stay `issuing` before it is taken for interrupted: far beyond any render and beyond
every caller's timeout (the kiosk gave up and was never charged), so no live request is ever failed."""


class ServiceBase:
    """Holds the seams of one city system's issuance server; subclasses add the calls of one area."""

    def __init__(
        self,
        *,
        city: CityConfig,
        system: str,
        issuer_id: str,
        registry: RegistrySource,
        log: IssuanceLog,
        trust: CardTrustSource,
        press: DocumentPress,
        hasher: PersonHasher,
        audit: IssuerAudit,
        clock: Clock,
        city_allows_individual_number: bool = CITY_ALLOWS_INDIVIDUAL_NUMBER,
        controls: ServiceControlSource | None = None,
    ) -> None:
        """CONTROLS: the city's service controls (a suspended kind, a maintenance window); None: none apply."""
        self._city = city
        self._controls = controls
        self._system = system
        self._issuer_id = issuer_id
        self._planner = CertificatePlanner(
            registry=registry, hasher=hasher, city_allows_individual_number=city_allows_individual_number
        )
        self._log_store = log
        self._trust = trust
        self._press = press
        self._hasher = hasher
        self._audit = audit
        self._clock = clock
        self._prefix = serial_prefix(city_code=city.code, system=system)  # ValidationError for an unknown system

    @property
    def issuer_id(self) -> str:
        return self._issuer_id

    @property
    def city_code(self) -> str:
        return self._city.code

    def _verify_card(
        self, submission: RoutedSubmission | TaggedHistorySubmission, *, now: dt.datetime
    ) -> tuple[x509.Certificate, bytes, str]:
        """Verify the card's signature over this exact request ourselves (end to end: a relay cannot alter it);
        return the card certificate, the request digest and the certificate's fingerprint."""
        request = submission.request
        digest = request_digest(request.signed_form())
        cert = verify_card_authentication(
            trust=self._trust.current(),
            certificate_der=submission.card_certificate,
            signature=submission.signature,
            challenge=submission.challenge,
            request_digest=digest,
            kiosk_id=request.kiosk_id,
            now=now,
        )
        return cert, digest, card_fingerprint(submission.card_certificate)
