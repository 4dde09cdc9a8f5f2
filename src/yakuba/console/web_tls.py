"""The console's HTTPS certificate: a server-only certificate from the city's backbone CA, made on first start.

Careful: this module handles the console's TLS private key (written 0600 under the key folder, like every
service key of yakuba.pki, and never logged).
"""

from __future__ import annotations

import datetime as dt
import ssl
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from yakuba.clock import Clock, SystemClock
from yakuba.config import CityConfig, ConsoleConfig, Deployment
from yakuba.errors import NotFoundError
from yakuba.pki._atomic import exclusive_lock, write_atomic
from yakuba.pki._authority import SERVICE_CERT_VALIDITY, load_authority
from yakuba.pki._certs import (
    BACKDATE,
    CertificateProfile,
    build_leaf_certificate,
    host_names,
    load_certificate,
    name,
    pem,
)
from yakuba.pki._keys import PUBLIC_FILE_MODE, ensure_private_dir, generate_ec_key, write_private_key
from yakuba.pki._layout import CertKeyPaths, KeyLayout

__all__ = [
    "RENEW_BEFORE",
    "WebCertificate",
    "check_console_health",
    "console_ssl_context",
    "ensure_console_certificate",
]

RENEW_BEFORE = dt.timedelta(days=30)
"""A certificate with less than this left is replaced at start, so a console never serves an expired one."""

WEB_FILE_STEM = "web"
"""File stem of the console's certificate in its service folder (key_dir/services/<instance>/web.crt)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class WebCertificate:
    """The console's certificate files and what the encryption map shows of them."""

    cert_path: Path
    key_path: Path
    ca_path: Path
    subject: str
    issuer: str
    not_after: dt.datetime
    fingerprint: str


def _ca_paths(dep: Deployment, city: CityConfig) -> CertKeyPaths:
    return KeyLayout.of(dep.key_dir).segment_ca(f"backbone-{city.code}")


def _describe(paths: CertKeyPaths, ca_path: Path) -> WebCertificate:
    cert = load_certificate(paths.cert)
    return WebCertificate(
        cert_path=paths.cert,
        key_path=paths.key,
        ca_path=ca_path,
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        not_after=cert.not_valid_after_utc,
        fingerprint=cert.fingerprint(hashes.SHA256()).hex(),
    )


def ensure_console_certificate(dep: Deployment, city: CityConfig, *, clock: Clock | None = None) -> WebCertificate:
    """The console's certificate, issued by the city's backbone CA when missing, expiring, or for other names.

    Server authentication only (no client EKU: the console calls no service with it); subject alternative
    names: localhost, 127.0.0.1 and the configured host.
    """
    console = _console(city)
    ca_paths = _ca_paths(dep, city)
    if not ca_paths.cert.exists():
        raise NotFoundError(
            f"{ca_paths.cert}: the city's backbone CA is missing (run `yakuba pki init DIR`)",
            ja=f"{ca_paths.cert}: 基幹系のCAがありません（`yakuba pki init DIR` を実行してください）",
        )
    paths = KeyLayout.of(dep.key_dir).service(console.instance, WEB_FILE_STEM)
    now = (clock or SystemClock()).now()
    sans = _sans(console)
    with exclusive_lock(KeyLayout.of(dep.key_dir).lock):
        if not _current(paths, ca_paths.cert, sans=sans, now=now):
            ca = load_authority(ca_paths, key_dir=dep.key_dir)
            key = generate_ec_key()
            cert = build_leaf_certificate(
                subject=name(
                    (NameOID.ORGANIZATION_NAME, f"yakuba {dep.deployment.name}"),
                    (NameOID.ORGANIZATIONAL_UNIT_NAME, "console"),
                    (NameOID.COMMON_NAME, console.instance),
                ),
                public_key=key.public_key(),
                issuer=ca.pair,
                profile=CertificateProfile(extended_key_usages=(ExtendedKeyUsageOID.SERVER_AUTH,)),
                not_before=now - BACKDATE,
                not_after=now + SERVICE_CERT_VALIDITY,
                subject_alt_names=sans,
            )
            ensure_private_dir(paths.cert.parent)
            write_private_key(paths.key, key)
            write_atomic(paths.cert, pem(cert), mode=PUBLIC_FILE_MODE)
    return _describe(paths, ca_paths.cert)


def _console(city: CityConfig) -> ConsoleConfig:
    if city.console is None:
        raise NotFoundError(
            f"city {city.code} has no [cities.console] section in the configuration",
            ja=f"市区町村 {city.code} の設定に console がありません",
        )
    return city.console


def _sans(console: ConsoleConfig) -> list[x509.GeneralName]:
    sans: list[x509.GeneralName] = [x509.DNSName("localhost")]
    for extra in host_names("127.0.0.1") + host_names(console.host):
        if extra not in sans:
            sans.append(extra)
    return sans


def _current(paths: CertKeyPaths, ca_cert: Path, *, sans: list[x509.GeneralName], now: dt.datetime) -> bool:
    if not paths.cert.exists() or not paths.key.exists():
        return False
    cert = load_certificate(paths.cert)
    if cert.issuer != load_certificate(ca_cert).subject or cert.not_valid_after_utc - RENEW_BEFORE < now:
        return False
    try:
        have = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    return set(have) == set(sans)


def console_ssl_context(certificate: WebCertificate) -> ssl.SSLContext:
    """Server side for browsers: TLS 1.2 or newer, no client certificate (staff log in with a password)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(certfile=str(certificate.cert_path), keyfile=str(certificate.key_path))
    return context


def check_console_health(dep: Deployment, city: CityConfig, *, port: int | None = None, timeout: float = 2.0) -> None:
    """GET /health of CITY's console as a browser would (its certificate checked against the city's backbone CA);
    raise on any failure. For `yakuba up`, which waits until every process answers."""
    console = _console(city)
    context = ssl.create_default_context(cafile=str(_ca_paths(dep, city).cert)) if console.tls else None
    scheme = "https" if console.tls else "http"
    url = f"{scheme}://{console.host}:{console.port if port is None else port}/health"
    with urllib.request.urlopen(url, timeout=timeout, context=context) as answer:  # noqa: S310 - our own URL
        if answer.status != 200:
            raise ConnectionError(f"the console answered {answer.status}")
