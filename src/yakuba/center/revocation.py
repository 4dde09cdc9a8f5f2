"""The center's view of card revocation: the JPKI's CRL, cached, refreshed in the background, never trusted stale."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from yakuba.clock import Clock
from yakuba.errors import UpstreamError, YakubaError
from yakuba.pki import CardTrust

__all__ = [
    "CRL_GRACE",
    "CRL_REFRESH_INTERVAL",
    "MAX_STATUS_SILENCE",
    "CrlFetchResult",
    "CrlSource",
    "RevocationCache",
]

_log = logging.getLogger("yakuba.center.revocation")

CRL_REFRESH_INTERVAL = dt.timedelta(seconds=30)
"""How often the CRL is re-fetched in the background; a card revoked a moment ago is refused at most this
long later. An unchanged CRL costs one small answer (the JPKI only sends the CRL when its number moved)."""

CRL_GRACE = dt.timedelta(hours=1)
"""How long past its nextUpdate a CRL may still be used: covers the publisher re-signing a little late,
not a publisher that stopped."""

MAX_STATUS_SILENCE = dt.timedelta(minutes=15)
"""Longest time without a successful contact with the JPKI before issuance stops: a CRL may be valid for a
week, but revocations are published as they happen, so a center cut off from J-LIS for longer than this no
longer knows about a card reported lost this morning (30 refresh intervals: a few failed fetches are fine)."""


class CrlFetchResult(Protocol):
    """A fetch answer: the CRL number, and its DER unless the caller's known number is still current."""

    @property
    def number(self) -> int: ...

    @property
    def der(self) -> bytes | None: ...


class CrlSource(Protocol):
    """Where the CRL comes from (the JPKI status service, over J-LIS)."""

    async def fetch_crl(self, *, known_number: int | None) -> CrlFetchResult:
        """The current CRL (or only its number when it is KNOWN_NUMBER); UpstreamError when unreachable."""


class RevocationCache:
    """The JPKI trust anchors with the latest CRL fetched from SOURCE; one per center process.

    Requests never wait for the JPKI once warm: `trust` answers from memory and `run` refreshes every
    CRL_REFRESH_INTERVAL. A cold cache (start-up, JPKI down at start) fetches once on the first request.
    """

    def __init__(self, *, anchors: CardTrust, source: CrlSource, clock: Clock) -> None:
        self._anchors = anchors
        self._source = source
        self._clock = clock
        self._trust: CardTrust | None = None
        self._number: int | None = None
        self._contacted_at: dt.datetime | None = None
        self._lock = asyncio.Lock()

    @property
    def crl_number(self) -> int | None:
        """The number of the CRL in use, None before the first successful fetch."""
        return self._number

    async def refresh(self) -> None:
        """Fetch the CRL and install it, or raise UpstreamError (the previous CRL stays in use).

        1. Fetch, sending the number we hold: an unchanged CRL only renews our contact time.
        2. Parse it (garbage from a broken relay is refused).
        3. It is issued and signed by the JPKI user-authentication CA (stops a forged CRL that un-revokes).
        4. Its number is not below ours (stops a rollback to an older CRL from a stale replica).
        5. It is not past nextUpdate + CRL_GRACE (stops installing a CRL its publisher abandoned).
        """
        async with self._lock:
            await self._refresh_locked()

    async def _refresh_locked(self) -> None:
        fetched = await self._source.fetch_crl(known_number=self._number)  # 1
        now = self._clock.now()
        if fetched.der is None:
            if self._trust is None or fetched.number != self._number:
                raise UpstreamError("the JPKI said the CRL is unchanged, but we hold no such CRL")
            self._contacted_at = now
            _check_fresh(self._trust.crl, now=now)  # 5, for the CRL we keep
            return
        # Parsing, checking and indexing a national CRL takes a while: in a worker thread, not the event loop.
        crl, trust = await asyncio.to_thread(self._checked, fetched.der)  # 2, 3
        number = _crl_number(crl)
        if self._number is not None and number < self._number:  # 4
            raise UpstreamError(f"the JPKI answered CRL #{number}, older than #{self._number} in use")
        _check_fresh(crl, now=now)  # 5
        if number != self._number:
            _log.info("card CRL #%d installed (%d revoked)", number, len(trust.revoked))
        self._trust = trust
        self._number = number
        self._contacted_at = now

    def _checked(self, der: bytes) -> tuple[x509.CertificateRevocationList, CardTrust]:
        """Steps 2 and 3 of `refresh`: the CRL parsed and signed by the user-authentication CA, and the trust
        with it (its serials indexed)."""
        try:  # 2
            crl = x509.load_der_x509_crl(der)
        except ValueError as exc:
            raise UpstreamError("the JPKI answered a CRL that cannot be parsed") from exc
        issuer = self._anchors.intermediate  # 3
        public = issuer.public_key()
        if (
            crl.issuer != issuer.subject
            or not isinstance(public, rsa.RSAPublicKey | ec.EllipticCurvePublicKey)
            or not crl.is_signature_valid(public)
        ):
            raise UpstreamError("the JPKI answered a CRL not signed by the user-authentication CA")
        return crl, self._anchors.with_crl(crl)

    async def trust(self) -> CardTrust:
        """The card trust to verify a request with now; UpstreamError rather than stale revocation status.

        1. A cold cache fetches once (the first request after start-up waits for the JPKI, later ones never).
        2. The CRL in use must not be past its nextUpdate + CRL_GRACE.
        3. The JPKI must have been reached within MAX_STATUS_SILENCE (revocations since then are unknown).
        """
        if self._trust is None:  # 1
            async with self._lock:
                if self._trust is None:  # the background refresh may have filled it while we waited
                    await self._refresh_locked()
        trust, contacted = self._trust, self._contacted_at
        if trust is None or contacted is None:
            raise UpstreamError("no card revocation list from the JPKI yet")
        now = self._clock.now()
        _check_fresh(trust.crl, now=now)  # 2
        if now - contacted > MAX_STATUS_SILENCE:  # 3
            raise UpstreamError(
                "the JPKI status service has not been reached recently; card status is unknown",
                ja="電子証明書の失効情報を確認できません。しばらくしてからご利用ください。",
            )
        return trust

    async def run(self, interval: dt.timedelta = CRL_REFRESH_INTERVAL) -> None:
        """Refresh now and then every INTERVAL until cancelled; failures are logged and retried next time."""
        while True:
            try:
                await self.refresh()
            except YakubaError as exc:
                _log.warning("card CRL refresh failed: %s (%s)", exc.code, exc.text_en)
            await asyncio.sleep(interval.total_seconds())


def _crl_number(crl: x509.CertificateRevocationList) -> int:
    try:
        return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    except x509.ExtensionNotFound:
        return 0


def _check_fresh(crl: x509.CertificateRevocationList, *, now: dt.datetime) -> None:
    next_update = crl.next_update_utc
    if next_update is None or now > next_update + CRL_GRACE:
        raise UpstreamError(
            "the card revocation list is out of date",
            ja="電子証明書の失効情報が古いため確認できません。しばらくしてからご利用ください。",
        )
