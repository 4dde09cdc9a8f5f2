"""The JPKI card trust the issuer verifies with, its CRL reloaded whenever the CRL file changes."""

from __future__ import annotations

import threading

from cryptography import x509

from yakuba.config import Deployment
from yakuba.pki import CardTrust, CrlWatcher

__all__ = ["ReloadingCardTrust"]


class ReloadingCardTrust:
    """CardTrust with the deployment's current CRL (the file is stat()ed on every call, re-read and its
    signature checked only when it changed).

    Threat: a card revoked a second ago (lost, moved away, deceased) still signing requests.
    """

    def __init__(self, *, dep: Deployment) -> None:
        self._crl = CrlWatcher(dep=dep)
        self._lock = threading.Lock()
        self._trust = CardTrust.from_deployment(dep)
        self._source: x509.CertificateRevocationList | None = None

    @classmethod
    def from_deployment(cls, dep: Deployment) -> ReloadingCardTrust:
        return cls(dep=dep)

    def current(self) -> CardTrust:
        """The trust anchors with the newest CRL."""
        crl = self._crl.current()
        if crl is self._source:
            return self._trust
        with self._lock:
            if crl is not self._source:
                self._trust = self._trust.with_crl(crl)
                self._source = crl
            return self._trust
