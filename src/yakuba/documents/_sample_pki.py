"""A throwaway LGPKI root and city document-signing certificate, in memory: for demos, benchmarks, tests."""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from yakuba.documents._signing import DocumentSigner
from yakuba.documents._verify import DOCUMENT_SIGNING_EKU, DocumentTrust

__all__ = ["sample_pki"]

SAMPLE_VALIDITY = dt.timedelta(days=3650)
"""Ten years, so fixed test dates and the real clock both fall inside; these keys never touch disk."""


def _name(common_name: str, city_code: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, "JP")]
    if city_code:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, city_code))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def sample_pki(city_code: str, *, now: dt.datetime | None = None) -> tuple[DocumentSigner, DocumentTrust]:
    """A fresh root and a document-signing certificate for CITY_CODE, shaped like `init_pki`'s."""
    start = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=1)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = _name("Sample LGPKI Root (throwaway)")
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + SAMPLE_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(f"city {city_code} document signing", city_code))
        .issuer_name(root_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + SAMPLE_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([DOCUMENT_SIGNING_EKU]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    signer = DocumentSigner(city_code=city_code, certificate=cert, private_key=key, chain=(root,))
    return signer, DocumentTrust(roots=(root,), city_certificates={city_code: cert})
