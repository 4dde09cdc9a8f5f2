"""End-to-end sealing of the issued document to the kiosk's one-time transaction key (HPKE, RFC 9180).

Suite: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM, base mode, single shot.
- X25519: the kiosk makes a fresh key pair per transaction in well under a millisecond, keys are 32 bytes
  (they travel inside the signed request), and there are no invalid-curve pitfalls.
- AES-256-GCM rather than ChaCha20-Poly1305: AES and GCM are on CRYPTREC's e-Government Recommended
  Ciphers List that Japanese public-sector procurement asks for, and every kiosk and server CPU we target
  has AES instructions. ChaCha20-Poly1305 would be the pick for CPUs without them; changing it means a new
  envelope version. A single shot of at most MAX_PLAINTEXT_BYTES is far inside GCM's per-key limits, and
  base mode derives a fresh key and nonce for every seal, so nonce reuse cannot happen.

Envelope v1 (bytes): ``b"YKSL" | version 0x01 | enc (32, the sender's ephemeral X25519 key) | ciphertext |
tag (16)``. The HPKE ``info`` is ``INFO_PREFIX`` followed by the RFC 8785 JSON of the SealingBinding, so the
document opens only for this transaction, this card and this exact request.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import NoReturn

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.hpke import AEAD, KDF, KEM, Suite

from yakuba.errors import ValidationError, VerificationError
from yakuba.wire.digest import DIGEST_SIZE, canonical_json

__all__ = [
    "ENVELOPE_MAGIC",
    "ENVELOPE_OVERHEAD",
    "ENVELOPE_VERSION",
    "INFO_PREFIX",
    "MAX_PLAINTEXT_BYTES",
    "MAX_TRANSACTION_ID_LENGTH",
    "PUBLIC_KEY_SIZE",
    "SealingBinding",
    "TransactionKey",
    "card_fingerprint",
    "open_sealed",
    "seal",
]

MAX_PLAINTEXT_BYTES = 20 * 1024 * 1024
"""20 MiB: a signed multi-page certificate PDF is well under 1 MiB; the bound stops memory exhaustion."""

MAX_TRANSACTION_ID_LENGTH = 128
"""Transaction ids are UUIDs or ULIDs; a bound keeps the HPKE info small and the logs tidy."""

PUBLIC_KEY_SIZE = 32
"""An X25519 public key, raw."""

ENVELOPE_MAGIC = b"YKSL"
"""Marks a yakuba sealed envelope, so a stray blob is refused before any cryptography."""

ENVELOPE_VERSION = 1
"""Bumped with any change of suite, layout or info encoding; an unknown version is refused, never guessed."""

INFO_PREFIX = b"yakuba/wire/seal/v1\x00"
"""Domain separation: HPKE info of this protocol and version only, never confusable with another use of HPKE."""

_HEADER = ENVELOPE_MAGIC + bytes([ENVELOPE_VERSION])
_TAG_SIZE = 16
ENVELOPE_OVERHEAD = len(_HEADER) + PUBLIC_KEY_SIZE + _TAG_SIZE
"""Bytes an envelope adds to its plaintext: header, encapsulated key, AEAD tag."""

_SUITE = Suite(KEM.X25519, KDF.HKDF_SHA256, AEAD.AES_256_GCM)
_TRANSACTION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]*")
_FINGERPRINT = re.compile(r"[0-9a-f]{64}")
_PURPOSE = re.compile(r"[a-z][a-z0-9._-]{0,63}")


def card_fingerprint(card_certificate_der: bytes) -> str:
    """The card's fingerprint as bound into a seal: lowercase hex SHA-256 of its certificate's DER."""
    return hashlib.sha256(card_certificate_der).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class SealingBinding:
    """What a sealed document is bound to: any difference between sealer and opener makes opening fail."""

    transaction_id: str
    card_fingerprint: str
    request_digest: bytes
    purpose: str

    def __post_init__(self) -> None:
        if len(self.transaction_id) > MAX_TRANSACTION_ID_LENGTH or not _TRANSACTION_ID.fullmatch(self.transaction_id):
            raise ValidationError("transaction id is malformed")
        if not _FINGERPRINT.fullmatch(self.card_fingerprint):
            raise ValidationError("card fingerprint must be 64 lowercase hex digits (SHA-256)")
        if not isinstance(self.request_digest, bytes) or len(self.request_digest) != DIGEST_SIZE:
            raise ValidationError(f"request digest must be {DIGEST_SIZE} bytes")
        if not _PURPOSE.fullmatch(self.purpose):
            raise ValidationError("purpose label is malformed")

    def info(self) -> bytes:
        """The HPKE info: version prefix, then the canonical JSON of every field."""
        return INFO_PREFIX + canonical_json(
            {
                "card_fingerprint": self.card_fingerprint,
                "purpose": self.purpose,
                "request_digest": self.request_digest.hex(),
                "transaction_id": self.transaction_id,
            }
        )


class TransactionKey:
    """The kiosk's X25519 key pair for one transaction; careful: the private half never leaves this object.

    There is no way to export, print or pickle the private key: the kiosk drops the object when the
    transaction ends, and with it the only means of opening the document (forward secrecy per transaction).
    """

    __slots__ = ("_private",)

    def __init__(self, *, private_key: X25519PrivateKey) -> None:
        self._private = private_key

    @classmethod
    def generate(cls) -> TransactionKey:
        """A fresh key pair from the operating system's CSPRNG."""
        return cls(private_key=X25519PrivateKey.generate())

    def public_bytes(self) -> bytes:
        """The raw 32-byte public key the kiosk puts in its signed request."""
        return self._private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    def open(self, envelope: bytes, *, binding: SealingBinding) -> bytes:
        """The plaintext of ENVELOPE, if it was sealed to this key under exactly BINDING.

        1. Check the size: at least the overhead, at most the largest document (stops truncation and
           memory exhaustion before any cryptography).
        2. Check magic and version exactly (stops version confusion and downgrade; no guessing).
        3. Rebuild the info from BINDING (stops a document for another transaction, card or request being
           accepted here: mix-up and replay).
        4. HPKE-open with this transaction's private key; the AEAD tag covers the ciphertext and, through the
           key schedule, enc, the recipient key and the info (stops a wrong recipient and any bit flip).
        Raises VerificationError on any failure, without saying which step failed.
        """
        # Step 1
        if not ENVELOPE_OVERHEAD <= len(envelope) <= MAX_PLAINTEXT_BYTES + ENVELOPE_OVERHEAD:
            _refuse(None)
        # Step 2
        if envelope[: len(_HEADER)] != _HEADER:
            _refuse(None)
        # Step 3
        info = binding.info()
        # Step 4
        try:
            return _SUITE.decrypt(envelope[len(_HEADER) :], self._private, info=info)
        except (InvalidTag, ValueError) as exc:
            # ValueError: an enc that is not a usable X25519 point (e.g. low order) after tampering.
            _refuse(exc)

    def __repr__(self) -> str:
        return "TransactionKey(<private>)"

    def __reduce__(self) -> NoReturn:
        raise TypeError("a TransactionKey cannot be pickled or copied")


def seal(plaintext: bytes, *, recipient_public: bytes, binding: SealingBinding) -> bytes:
    """Seal PLAINTEXT so that only the holder of the transaction key, under BINDING, can open it.

    1. Check the plaintext size (stops an envelope the kiosk would refuse anyway, and memory abuse).
    2. Load the recipient key as exactly 32 raw bytes (stops a malformed or truncated key).
    3. HPKE-seal with the binding as info, behind the versioned header.
    """
    # Step 1
    if len(plaintext) > MAX_PLAINTEXT_BYTES:
        raise ValidationError(f"document larger than {MAX_PLAINTEXT_BYTES} bytes cannot be sealed")
    # Step 2
    if len(recipient_public) != PUBLIC_KEY_SIZE:
        raise ValidationError(f"transaction key must be {PUBLIC_KEY_SIZE} raw bytes")
    try:
        recipient = X25519PublicKey.from_public_bytes(recipient_public)
        # Step 3
        return _HEADER + _SUITE.encrypt(plaintext, recipient, info=binding.info())
    except ValueError as exc:
        raise VerificationError("the transaction key cannot be used for sealing") from exc


def open_sealed(envelope: bytes, *, key: TransactionKey, binding: SealingBinding) -> bytes:
    """The plaintext of ENVELOPE for KEY under BINDING; see TransactionKey.open for the steps."""
    return key.open(envelope, binding=binding)


def _refuse(cause: BaseException | None) -> NoReturn:
    raise VerificationError(
        "the sealed document could not be opened for this transaction",
        ja="この取引の証明書を開封できませんでした。",
    ) from cause
