"""Keyed hashes (HMAC-SHA256 with a per-city secret) of person ids and cards for the issuance log."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from yakuba.errors import ConfigError

__all__ = ["LOG_KEY_BYTES", "LOG_KEY_FILE", "PersonHasher"]

LOG_KEY_BYTES = 32
"""256-bit HMAC key: the hashes must not be reversible by trying every person id (a small space) without it."""

LOG_KEY_FILE = "issuance-log-hmac.key"
"""The per-city secret's file in `<key_dir>/cities/<code>/`, next to the city's document-signing key."""

_KEY_FILE_MODE = 0o600


class PersonHasher:
    """Pseudonyms for the log: the same person gives the same hash in every issuer of the city, and
    nobody without the city's secret can tell whose it is (person ids are small integers, so a plain hash
    would be reversed by counting)."""

    __slots__ = ("_key",)

    def __init__(self, *, key: bytes) -> None:
        if len(key) != LOG_KEY_BYTES:
            raise ConfigError(f"the issuance-log key must be {LOG_KEY_BYTES} bytes")
        self._key = key

    def __repr__(self) -> str:
        return "PersonHasher(<secret>)"

    @classmethod
    def from_key_dir(cls, key_dir: Path, city_code: str) -> PersonHasher:
        """The city's log key, created on first use (exclusively, so two issuers starting together agree)."""
        path = key_dir / "cities" / city_code / LOG_KEY_FILE
        if not path.parent.is_dir():
            raise ConfigError(f"{path.parent}: missing (run `yakuba pki init DIR`)")
        if not path.exists():
            # Written whole to a private temporary file, then hard-linked into place: of the issuers (and the
            # workers of one, `up --workers`) starting together exactly one key wins and nobody reads it half
            # written (found by `yakuba torture`: a worker read the file between its creation and its write).
            tmp = path.with_name(f".{LOG_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _KEY_FILE_MODE)
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(secrets.token_bytes(LOG_KEY_BYTES))
                    out.flush()
                    os.fsync(out.fileno())
                os.link(tmp, path)
            except FileExistsError:
                pass
            finally:
                tmp.unlink(missing_ok=True)
        key = path.read_bytes()
        if len(key) != LOG_KEY_BYTES:
            raise ConfigError(f"{path}: not a {LOG_KEY_BYTES}-byte key")
        if path.stat().st_mode & 0o077:
            raise ConfigError(f"{path}: readable by others; chmod 600")
        return cls(key=key)

    def _hash(self, label: str, value: str) -> str:
        return hmac.new(self._key, f"{label}\x00{value}".encode(), hashlib.sha256).hexdigest()

    def person(self, person_id: int) -> str:
        """The pseudonym of a resident (residence record id)."""
        return self._hash("person", str(person_id))

    def register_member(self, member_id: int) -> str:
        """The pseudonym of a family-register member who does not live here (本籍地 requests)."""
        return self._hash("koseki-member", str(member_id))

    def card(self, fingerprint: str) -> str:
        """The pseudonym of a card certificate (its SHA-256 fingerprint is itself a stable identifier)."""
        return self._hash("card", fingerprint)
