"""X.509 recipes: CA, service, card and city certificates with the extensions each role needs."""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier

from yakuba.errors import ConfigError, ValidationError
from yakuba.pki._keys import PrivateKey

__all__ = [
    "BACKDATE",
    "DOCUMENT_SIGNING_EKU",
    "CertificateProfile",
    "build_ca_certificate",
    "build_leaf_certificate",
    "check_card_serial",
    "fingerprint_sha256",
    "host_names",
    "load_certificate",
    "name",
    "pem",
    "spiffe_uri",
]

BACKDATE = dt.timedelta(minutes=5)
"""notBefore is set this far in the past so a peer whose clock runs slightly behind still accepts it."""

DOCUMENT_SIGNING_EKU = ObjectIdentifier("1.3.6.1.5.5.7.3.36")
"""id-kp-documentSigning (RFC 9336): the EKU of the city's document-signing (公印) certificate."""

SPIFFE_TRUST_DOMAIN_PREFIX = "yakuba."
"""Service identities are spiffe://yakuba.<deployment>/<role>/<instance>."""


CARD_SERIAL_HEX_DIGITS = 16
"""A card serial is 64 random bits written as 16 upper-case hex digits; it is also the certificate serial."""


def check_card_serial(serial: str) -> str:
    """SERIAL normalised to upper case, or a ValidationError if it is not 16 hex digits."""
    text = serial.strip().upper()
    if len(text) != CARD_SERIAL_HEX_DIGITS or any(c not in "0123456789ABCDEF" for c in text):
        raise ValidationError(
            f"a card serial is {CARD_SERIAL_HEX_DIGITS} hexadecimal digits",
            ja=f"カードのシリアル番号は16進数{CARD_SERIAL_HEX_DIGITS}桁です",
        )
    return text


def spiffe_uri(*, deployment: str, role: str, instance: str) -> str:
    """The SPIFFE ID a service certificate carries as its URI SAN."""
    return f"spiffe://{SPIFFE_TRUST_DOMAIN_PREFIX}{deployment}/{role}/{instance}"


def fingerprint_sha256(der: bytes) -> str:
    """Lower-case hex SHA-256 of DER bytes (certificate or CRL)."""
    return hashlib.sha256(der).hexdigest()


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def load_certificate(path: Path) -> x509.Certificate:
    """Read a PEM certificate, or a ConfigError naming the file."""
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except FileNotFoundError as exc:
        raise ConfigError(
            f"{path}: certificate missing (run `yakuba pki init DIR`)",
            ja=f"{path}: 証明書がありません（`yakuba pki init DIR` を実行してください）",
        ) from exc
    except ValueError as exc:
        raise ConfigError(f"{path}: not a readable PEM certificate", ja=f"{path}: 証明書として読めません") from exc


def host_names(host: str) -> list[x509.GeneralName]:
    """SAN entries for a configured host: an IP address or a DNS name (nothing for other strings)."""
    try:
        return [x509.IPAddress(ipaddress.ip_address(host))]
    except ValueError:
        pass
    labels = host.rstrip(".").split(".")
    if all(label and len(label) <= 63 and label.replace("-", "").isalnum() and label.isascii() for label in labels):
        return [x509.DNSName(host.rstrip(".").lower())]
    return []


@dataclass(frozen=True, slots=True)
class CertificateProfile:
    """What a leaf certificate may be used for."""

    digital_signature: bool = True
    content_commitment: bool = False
    extended_key_usages: tuple[ObjectIdentifier, ...] = ()

    @classmethod
    def service(cls) -> CertificateProfile:
        """mTLS both ways: every service is a server on one link and a client on the next."""
        return cls(extended_key_usages=(ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH))

    @classmethod
    def card(cls) -> CertificateProfile:
        """The JPKI user-authentication certificate: it authenticates a person to a service."""
        return cls(extended_key_usages=(ExtendedKeyUsageOID.CLIENT_AUTH,))

    @classmethod
    def document_signing(cls) -> CertificateProfile:
        """The city's 公印 counterpart: signatures meant to be relied on later (non-repudiation)."""
        return cls(content_commitment=True, extended_key_usages=(DOCUMENT_SIGNING_EKU,))

    @classmethod
    def counter(cls) -> CertificateProfile:
        """The city counter's authority to reset a locked card PIN."""
        return cls(extended_key_usages=(ExtendedKeyUsageOID.CLIENT_AUTH,))


def _key_usage(
    *, digital_signature: bool = False, content_commitment: bool = False, cert_sign: bool = False
) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=content_commitment,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def build_ca_certificate(
    *,
    subject: x509.Name,
    key: PrivateKey,
    path_length: int,
    not_before: dt.datetime,
    not_after: dt.datetime,
    issuer: tuple[x509.Certificate, PrivateKey] | None = None,
) -> x509.Certificate:
    """A CA certificate: self-signed when ISSUER is None, else signed by the issuer CA."""
    public = key.public_key()
    if issuer is None:
        issuer_name, signing_key = subject, key
        aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(public)
    else:
        issuer_cert, signing_key = issuer
        issuer_name = issuer_cert.subject
        aki = _aki_of(issuer_cert)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(aki, critical=False)
    )
    return builder.sign(signing_key, hashes.SHA256())


def build_leaf_certificate(
    *,
    subject: x509.Name,
    public_key: CertificatePublicKeyTypes,
    issuer: tuple[x509.Certificate, PrivateKey],
    profile: CertificateProfile,
    not_before: dt.datetime,
    not_after: dt.datetime,
    subject_alt_names: Sequence[x509.GeneralName] = (),
    serial_number: int | None = None,
) -> x509.Certificate:
    """An end-entity certificate signed by ISSUER."""
    issuer_cert, issuer_key = issuer
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_cert.subject)
        .public_key(public_key)
        .serial_number(serial_number if serial_number is not None else x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            _key_usage(digital_signature=profile.digital_signature, content_commitment=profile.content_commitment),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(_aki_of(issuer_cert), critical=False)
    )
    if profile.extended_key_usages:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(profile.extended_key_usages)), critical=False)
    if subject_alt_names:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(subject_alt_names)), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _aki_of(issuer_cert: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    ski = issuer_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def name(*attributes: tuple[ObjectIdentifier, str]) -> x509.Name:
    """An X.509 name from (OID, value) pairs, in order."""
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in attributes])
