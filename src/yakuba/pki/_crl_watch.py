"""Following the published card CRL: re-read as soon as `yakuba pki revoke` replaces it, one stat otherwise."""

from __future__ import annotations

import os
import threading

from cryptography import x509

from yakuba.config import Deployment
from yakuba.pki._layout import KeyLayout
from yakuba.pki._revocation import load_crl

__all__ = ["CrlWatcher", "card_was_issued"]


class CrlWatcher:
    """The current card CRL of a deployment, reloaded when its file changes.

    `yakuba pki revoke` replaces the file atomically, so its inode, size or mtime moves: a revocation is seen
    on the next call. Every load checks the CA's signature (load_crl), so a tampered file is never used.
    Safe to share between threads.
    """

    def __init__(self, *, dep: Deployment) -> None:
        self._dep = dep
        self._path = KeyLayout.of(dep.key_dir).jpki_crl
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._crl: x509.CertificateRevocationList | None = None

    def current(self) -> x509.CertificateRevocationList:
        """The newest CRL (loaded now if the file changed since the last call)."""
        stamp = self._stat()
        crl = self._crl
        if crl is not None and stamp == self._stamp:
            return crl
        with self._lock:
            if self._crl is None or stamp != self._stamp:
                self._crl = load_crl(self._dep)
                self._stamp = stamp
            return self._crl

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self._path)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)


def card_was_issued(dep: Deployment, serial: str) -> bool:
    """Whether the JPKI stand-in issued a card certificate with this serial (it keeps a copy of each)."""
    return KeyLayout.of(dep.key_dir).issued_card(serial).is_file()
