"""What the card signs at the kiosk: the center's one-time challenge, the request digest and the kiosk id.

The card signs SHA-256 over a domain-separated, length-prefixed encoding of the three, so:
- the challenge makes the signature single use (replay of an old signed request),
- the request digest ties it to exactly what the resident chose (a relay changing kind, options or city),
- the kiosk id ties it to the machine that asked (a signature captured at one store replayed at another).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import struct

from cryptography import x509

from yakuba.errors import ValidationError
from yakuba.pki._card_trust import CardTrust
from yakuba.wire.digest import DIGEST_SIZE

__all__ = ["CARD_AUTH_CONTEXT", "card_auth_digest", "verify_card_authentication"]

CARD_AUTH_CONTEXT = b"yakuba/card-auth/v1\x00"
"""Domain separation: a card signature made for this protocol is never valid for another."""

MAX_KIOSK_ID_BYTES = 63
"""Instance ids are at most 63 characters (config), so a longer one is malformed input."""


def card_auth_digest(*, challenge: bytes, request_digest: bytes, kiosk_id: str) -> bytes:
    """The SHA-256 digest the card signs for one request."""
    kiosk = kiosk_id.encode("ascii")
    if len(request_digest) != DIGEST_SIZE or not challenge or len(kiosk) > MAX_KIOSK_ID_BYTES:
        raise ValidationError("malformed card authentication input", ja="カード認証の入力が不正です")
    h = hashlib.sha256(CARD_AUTH_CONTEXT)
    for part in (challenge, request_digest, kiosk):
        h.update(struct.pack(">H", len(part)))
        h.update(part)
    return h.digest()


def verify_card_authentication(
    *,
    trust: CardTrust,
    certificate_der: bytes,
    signature: bytes,
    challenge: bytes,
    request_digest: bytes,
    kiosk_id: str,
    now: dt.datetime,
) -> x509.Certificate:
    """Check that a valid, unrevoked card signed this challenge, request and kiosk; return its certificate.

    1. The card certificate chains to the JPKI root, is in date and is not revoked (CardTrust).
    2. The signature is the card key's over card_auth_digest(challenge, request_digest, kiosk_id).
    The caller must separately consume the challenge (single use, 120 s), or replay is possible.
    """
    cert = trust.verify_certificate(certificate_der, now=now)  # 1
    digest = card_auth_digest(challenge=challenge, request_digest=request_digest, kiosk_id=kiosk_id)
    trust.verify_signature(cert, signature=signature, digest=digest)  # 2
    return cert
