"""The deployment's certificate authorities: loading a CA, and creating or keeping its roots and intermediate."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import NameOID

from yakuba.clock import Clock, SystemClock
from yakuba.config import Deployment
from yakuba.errors import ConfigError
from yakuba.pki._atomic import write_atomic
from yakuba.pki._certs import BACKDATE, build_ca_certificate, load_certificate, name, pem
from yakuba.pki._keys import (
    PUBLIC_FILE_MODE,
    PrivateKey,
    ensure_private_dir,
    generate_ec_key,
    generate_rsa_key,
    load_private_key,
    write_private_key,
)
from yakuba.pki._layout import CertKeyPaths

__all__ = [
    "JPKI_AUTH_VALIDITY",
    "JPKI_ROOT_VALIDITY",
    "LGPKI_ROOT_VALIDITY",
    "SEGMENT_CA_VALIDITY",
    "Authority",
    "jpki_names",
    "load_authority",
]

SEGMENT_CA_VALIDITY = dt.timedelta(days=10 * 365)
"""A segment CA outlives many service certificates; rotating it means re-issuing its whole segment."""

JPKI_ROOT_VALIDITY = dt.timedelta(days=20 * 365)
"""The JPKI root outlives every card generation, like the real one."""

JPKI_AUTH_VALIDITY = dt.timedelta(days=10 * 365)
"""The user-authentication CA must outlive every card certificate it signs (5 years)."""

LGPKI_ROOT_VALIDITY = dt.timedelta(days=10 * 365)
"""The government organisation root outlives the city certificates it signs."""


@dataclass(frozen=True, slots=True)
class Authority:
    """A loaded CA: its certificate and private key."""

    cert: x509.Certificate
    key: PrivateKey

    @property
    def pair(self) -> tuple[x509.Certificate, PrivateKey]:
        return (self.cert, self.key)


def _now(clock: Clock | None) -> dt.datetime:
    return (clock or SystemClock()).now()


def _org(dep: Deployment) -> str:
    return f"yakuba {dep.deployment.name}"


def load_authority(paths: CertKeyPaths, *, key_dir: Path) -> Authority:
    """A CA's certificate and key, checked to belong together."""
    cert = load_certificate(paths.cert)
    key = load_private_key(paths.key, key_dir=key_dir)
    if cert.public_key() != key.public_key():
        raise ConfigError(
            f"{paths.key}: does not match {paths.cert.name}", ja=f"{paths.key}: {paths.cert.name} と対応しません"
        )
    return Authority(cert=cert, key=key)


def _write_cert(path: Path, cert: x509.Certificate) -> None:
    ensure_private_dir(path.parent)
    write_atomic(path, pem(cert), mode=PUBLIC_FILE_MODE)


def _ensure_root(
    paths: CertKeyPaths,
    *,
    key_dir: Path,
    subject: x509.Name,
    rsa_key: bool,
    path_length: int,
    validity: dt.timedelta,
    now: dt.datetime,
) -> tuple[Authority, int]:
    """Keep an existing self-signed CA, or create it; a half-present CA is refused, never silently replaced."""
    has_cert, has_key = paths.cert.exists(), paths.key.exists()
    if has_cert and has_key:
        return load_authority(paths, key_dir=key_dir), 0
    if has_cert or has_key:
        present = paths.cert if has_cert else paths.key
        raise ConfigError(
            f"{present}: found without its pair; move it away to create a new CA",
            ja=f"{present}: 対になるファイルがありません。新しいCAを作る場合は移動してください",
        )
    key: PrivateKey = generate_rsa_key() if rsa_key else generate_ec_key()
    cert = build_ca_certificate(
        subject=subject, key=key, path_length=path_length, not_before=now - BACKDATE, not_after=now + validity
    )
    write_private_key(paths.key, key)
    _write_cert(paths.cert, cert)
    return Authority(cert=cert, key=key), 1


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _still_good(paths: CertKeyPaths, *, issuer: Authority, subject: x509.Name, now: dt.datetime) -> bool:
    """Whether an existing certificate can be kept: present with its key, from ISSUER, same name, not expired."""
    if not (paths.cert.exists() and paths.key.exists()):
        return False
    try:
        cert = load_certificate(paths.cert)
    except ConfigError:
        return False
    return cert.subject == subject and _issued_by(cert, issuer.cert) and cert.not_valid_after_utc > now


def _ensure_intermediate(
    paths: CertKeyPaths, *, key_dir: Path, root: Authority, subject: x509.Name, now: dt.datetime
) -> tuple[Authority, int]:
    if _still_good(paths, issuer=root, subject=subject, now=now):
        return load_authority(paths, key_dir=key_dir), 0
    # Keep the key if there is one, so card certificates it already signed still verify.
    key = load_private_key(paths.key, key_dir=key_dir) if paths.key.exists() else generate_rsa_key()
    cert = build_ca_certificate(
        subject=subject,
        key=key,
        path_length=0,
        not_before=now - BACKDATE,
        not_after=now + JPKI_AUTH_VALIDITY,
        issuer=root.pair,
    )
    if not paths.key.exists():
        write_private_key(paths.key, key)
    _write_cert(paths.cert, cert)
    return Authority(cert=cert, key=key), 1


def jpki_names(dep: Deployment) -> tuple[x509.Name, x509.Name]:
    """Subjects of the JPKI stand-in root and user-authentication CA."""
    unit = f"{_org(dep)} (JPKI stand-in)"
    root = name(
        (NameOID.COUNTRY_NAME, "JP"),
        (NameOID.ORGANIZATION_NAME, "JPKI"),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, unit),
        (NameOID.COMMON_NAME, "JPKI Root CA"),
    )
    auth = name(
        (NameOID.COUNTRY_NAME, "JP"),
        (NameOID.ORGANIZATION_NAME, "JPKI"),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, unit),
        (NameOID.COMMON_NAME, "JPKI User Authentication CA"),
    )
    return root, auth
