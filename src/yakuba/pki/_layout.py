"""Where every certificate, key, CRL and card record of a deployment lives under its key folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["CertKeyPaths", "KeyLayout"]


@dataclass(frozen=True, slots=True)
class CertKeyPaths:
    """A certificate file and its private key file."""

    cert: Path
    key: Path


@dataclass(frozen=True, slots=True)
class KeyLayout:
    """The file layout under a deployment's key folder."""

    root: Path

    @classmethod
    def of(cls, key_dir: Path) -> KeyLayout:
        return cls(root=key_dir)

    def _pair(self, folder: Path, stem: str) -> CertKeyPaths:
        return CertKeyPaths(cert=folder / f"{stem}.crt", key=folder / f"{stem}.key")

    @property
    def ca_dir(self) -> Path:
        return self.root / "ca"

    def segment_ca(self, file_stem: str) -> CertKeyPaths:
        return self._pair(self.ca_dir, file_stem)

    def service(self, instance: str, file_stem: str) -> CertKeyPaths:
        return self._pair(self.root / "services" / instance, file_stem)

    @property
    def jpki_root(self) -> CertKeyPaths:
        return self._pair(self.ca_dir, "jpki-root")

    @property
    def jpki_auth(self) -> CertKeyPaths:
        return self._pair(self.ca_dir, "jpki-auth")

    @property
    def jpki_crl(self) -> Path:
        return self.ca_dir / "jpki-auth.crl"

    @property
    def lgpki_root(self) -> CertKeyPaths:
        return self._pair(self.ca_dir, "lgpki-root")

    def document_signing(self, city_code: str) -> CertKeyPaths:
        return self._pair(self.root / "cities" / city_code, "document-signing")

    def counter(self, city_code: str) -> CertKeyPaths:
        return self._pair(self.root / "cities" / city_code, "counter")

    @property
    def chip_secret(self) -> Path:
        return self.root / "card-chip.key"

    @property
    def card_state_dir(self) -> Path:
        return self.root / "card-state"

    def card_state(self, serial: str) -> Path:
        return self.card_state_dir / serial

    @property
    def issued_cards_dir(self) -> Path:
        """Copies of every card certificate the JPKI stand-in issued (public; the CA's own record)."""
        return self.root / "cards"

    def issued_card(self, serial: str) -> Path:
        return self.issued_cards_dir / f"{serial}.crt"

    @property
    def lock(self) -> Path:
        """Serializes init, issue and revoke across processes."""
        return self.root / ".pki.lock"
