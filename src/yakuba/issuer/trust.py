"""The JPKI card trust the issuer verifies with, its CRL reloaded whenever the CRL file changes."""

from __future__ import annotations

import threading
from pathlib import Path

from yakuba.config import Deployment
from yakuba.pki import CardTrust, load_crl

__all__ = ["ReloadingCardTrust"]


class ReloadingCardTrust:
    """CardTrust with the deployment's current CRL: the file is stat()ed on every call (a few microseconds)
    and re-read, with its signature checked by `load_crl`, only when it changed.

    Threat: a card revoked a second ago (lost, moved away, deceased) still signing requests. The CRL is
    replaced atomically by `revoke_card`, so a changed (inode, mtime, size) is a new file.
    """

    def __init__(self, *, dep: Deployment, crl_path: Path) -> None:
        self._dep = dep
        self._path = crl_path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._trust = CardTrust.from_deployment(dep)
        self._stamp = self._stat()

    @classmethod
    def from_deployment(cls, dep: Deployment) -> ReloadingCardTrust:
        # The CRL's place in the key folder is yakuba.pki's; it has no public accessor for the path yet.
        from yakuba.pki._layout import KeyLayout

        return cls(dep=dep, crl_path=KeyLayout.of(dep.key_dir).jpki_crl)

    def _stat(self) -> tuple[int, int, int]:
        st = self._path.stat()
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def current(self) -> CardTrust:
        """The trust anchors with the newest CRL."""
        stamp = self._stat()
        if stamp == self._stamp:
            return self._trust
        with self._lock:
            if stamp != self._stamp:
                self._trust = self._trust.with_crl(load_crl(self._dep))
                self._stamp = stamp
            return self._trust
