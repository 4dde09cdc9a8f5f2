"""Checking a card's user-authentication certificate and its signatures: chain to the JPKI root, validity, CRL."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.x509.oid import ExtendedKeyUsageOID

from yakuba.config import Deployment
from yakuba.errors import VerificationError
from yakuba.pki._layout import KeyLayout
from yakuba.pki._revocation import load_crl

__all__ = ["CARD_KEY_BITS", "CardTrust"]

CARD_KEY_BITS = 2048
"""The real card's user-authentication key is RSA-2048; anything else is not a My Number card."""

_DIGEST_SIZE = 32

_E = TypeVar("_E", bound=x509.ExtensionType)


def _is_for_authentication(cert: x509.Certificate) -> bool:
    """Whether CERT's extensions make it a user-authentication certificate (see verify_certificate, 6)."""
    try:
        extensions = cert.extensions  # parsed here: a malformed extension is a refusal, not a crash
        usage = extensions.get_extension_for_class(x509.KeyUsage).value
    except (x509.ExtensionNotFound, x509.DuplicateExtension, ValueError):
        return False
    if not usage.digital_signature or usage.content_commitment or usage.key_cert_sign:
        return False
    basic = _optional(extensions, x509.BasicConstraints)  # both optional in an end entity: judged where present
    extended = _optional(extensions, x509.ExtendedKeyUsage)
    if basic is not None and basic.ca:
        return False
    return extended is None or ExtendedKeyUsageOID.CLIENT_AUTH in extended


def _optional(extensions: x509.Extensions, kind: type[_E]) -> _E | None:
    try:
        return extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


@dataclass(frozen=True, slots=True)
class CardTrust:
    """The JPKI trust anchors and the CRL a verifier holds; built once, reused for every request."""

    root: x509.Certificate
    intermediate: x509.Certificate
    crl: x509.CertificateRevocationList
    revoked: frozenset[int]
    """The CRL's serials, read once per CRL: looking a serial up in the CRL itself walks every entry (3.6 ms
    per lookup at 10,000 entries, and the JPKI's CRL holds far more), on every request, twice per issuance."""

    @classmethod
    def of(
        cls, *, root: x509.Certificate, intermediate: x509.Certificate, crl: x509.CertificateRevocationList
    ) -> CardTrust:
        """The anchors with CRL, its serials read (0.25 s for 100,000 entries: off an event loop)."""
        return cls(root=root, intermediate=intermediate, crl=crl, revoked=frozenset(r.serial_number for r in crl))

    @classmethod
    def from_deployment(cls, dep: Deployment) -> CardTrust:
        layout = KeyLayout.of(dep.key_dir)
        root = x509.load_pem_x509_certificate(layout.jpki_root.cert.read_bytes())
        intermediate = x509.load_pem_x509_certificate(layout.jpki_auth.cert.read_bytes())
        intermediate.verify_directly_issued_by(root)
        return cls.of(root=root, intermediate=intermediate, crl=load_crl(dep))

    def with_crl(self, crl: x509.CertificateRevocationList) -> CardTrust:
        """The same anchors with a newer CRL (the status service refreshes it in the background)."""
        return CardTrust.of(root=self.root, intermediate=self.intermediate, crl=crl)

    def verify_certificate(self, der: bytes, *, now: dt.datetime) -> x509.Certificate:
        """Check a card certificate and return it parsed; raise VerificationError otherwise.

        1. Parse it (garbage is refused, not guessed at).
        2. It is issued by the JPKI user-authentication CA, and that CA by the root (a self-made card).
        3. It is inside its validity period (an expired card; a card lapses on its 5th birthday after issue).
        4. Its serial is not on the CRL (a card lapsed by a move, a name change, a death, or reported lost).
        5. Its key is RSA-2048 as on the real card (a downgraded key).
        6. It is made for authenticating a person: an end entity whose key usage is digital signature without
           non-repudiation (that is the JPKI signing certificate's) and, where it names extended usages,
           client authentication among them.
        """
        try:  # 1
            cert = x509.load_der_x509_certificate(der)
        except ValueError as exc:
            raise VerificationError(
                "the card certificate cannot be parsed", ja="カードの証明書を読み取れません"
            ) from exc
        try:  # 2
            cert.verify_directly_issued_by(self.intermediate)
        except (ValueError, TypeError, InvalidSignature) as exc:
            raise VerificationError(
                "the card certificate is not issued by the JPKI user-authentication CA",
                ja="カードの証明書が公的個人認証の認証局から発行されたものではありません",
            ) from exc
        if now < cert.not_valid_before_utc:  # 3
            raise VerificationError(
                "the card certificate is not valid yet (check the clock of the machine that checks it)",
                ja="カードの電子証明書はまだ有効期間前です",
            )
        if now > cert.not_valid_after_utc:
            raise VerificationError("the card certificate has expired", ja="カードの電子証明書の有効期限が切れています")
        if cert.serial_number in self.revoked:  # 4
            raise VerificationError("the card certificate has been revoked", ja="カードの電子証明書は失効しています")
        key = cert.public_key()
        if not isinstance(key, rsa.RSAPublicKey) or key.key_size != CARD_KEY_BITS:  # 5
            raise VerificationError("the card key is not RSA-2048", ja="カードの鍵の種類が正しくありません")
        if not _is_for_authentication(cert):  # 6
            raise VerificationError(
                "the card certificate is not a user-authentication certificate",
                ja="カードの証明書が利用者証明用電子証明書ではありません",
            )
        return cert

    @staticmethod
    def verify_signature(cert: x509.Certificate, *, signature: bytes, digest: bytes) -> None:
        """Check the card's RSA PKCS#1 v1.5 signature over a SHA-256 digest; raise VerificationError otherwise."""
        key = cert.public_key()
        if not isinstance(key, rsa.RSAPublicKey) or len(digest) != _DIGEST_SIZE:
            raise VerificationError("the card signature cannot be checked", ja="カードの署名を確認できません")
        try:
            key.verify(signature, digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))
        except InvalidSignature as exc:
            raise VerificationError("the card signature does not verify", ja="カードの署名が正しくありません") from exc
