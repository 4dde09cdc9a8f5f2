"""The deployment's certificate authorities: creating them, and issuing service, city and card certificates."""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from yakuba.clock import Clock, SystemClock
from yakuba.config import CityConfig, Deployment, Segment, segments
from yakuba.errors import ConfigError, NotFoundError
from yakuba.pki._atomic import exclusive_lock, write_atomic
from yakuba.pki._certs import (
    BACKDATE,
    CertificateProfile,
    build_ca_certificate,
    build_leaf_certificate,
    host_names,
    load_certificate,
    name,
    pem,
    spiffe_uri,
)
from yakuba.pki._identity import ServiceIdentity, find_member, find_segment, load_service_identity
from yakuba.pki._keys import (
    PUBLIC_FILE_MODE,
    PrivateKey,
    ensure_private_dir,
    generate_ec_key,
    generate_rsa_key,
    load_private_key,
    load_secret,
    new_secret,
    write_private_key,
    write_secret,
)
from yakuba.pki._layout import CertKeyPaths, KeyLayout
from yakuba.pki._revocation import ensure_crl

__all__ = [
    "CARD_CERT_VALIDITY",
    "CITY_CERT_VALIDITY",
    "JPKI_AUTH_VALIDITY",
    "JPKI_ROOT_VALIDITY",
    "LGPKI_ROOT_VALIDITY",
    "SEGMENT_CA_VALIDITY",
    "SERVICE_CERT_VALIDITY",
    "Authority",
    "PkiSummary",
    "card_subject",
    "init_pki",
    "issue_card_certificate",
    "issue_service_certificate",
    "jpki_names",
    "load_authority",
]

SEGMENT_CA_VALIDITY = dt.timedelta(days=10 * 365)
"""A segment CA outlives many service certificates; rotating it means re-issuing its whole segment."""

SERVICE_CERT_VALIDITY = dt.timedelta(days=2 * 365)
"""About two years: short enough that a forgotten service key ages out, long enough for a sample."""

JPKI_ROOT_VALIDITY = dt.timedelta(days=20 * 365)
"""The JPKI root outlives every card generation, like the real one."""

JPKI_AUTH_VALIDITY = dt.timedelta(days=10 * 365)
"""The user-authentication CA must outlive every card certificate it signs (5 years)."""

CARD_CERT_VALIDITY = dt.timedelta(days=5 * 365)
"""The real user-authentication certificate is valid for about five years."""

LGPKI_ROOT_VALIDITY = dt.timedelta(days=10 * 365)
"""The government organisation root outlives the city certificates it signs."""

CITY_CERT_VALIDITY = dt.timedelta(days=3 * 365)
"""City document-signing and counter certificates are renewed every few years, as LGPKI ones are."""


@dataclass(frozen=True, slots=True)
class Authority:
    """A loaded CA: its certificate and private key."""

    cert: x509.Certificate
    key: PrivateKey

    @property
    def pair(self) -> tuple[x509.Certificate, PrivateKey]:
        return (self.cert, self.key)


@dataclass(frozen=True, slots=True)
class PkiSummary:
    """What the key folder holds after `init_pki`."""

    certificate_authorities: int
    service_certificates: int
    cities: int
    issued_now: int

    def __str__(self) -> str:
        return (
            f"{self.certificate_authorities} CAs, {self.service_certificates} service certificates, "
            f"{self.cities} cities ({self.issued_now} issued now)"
        )


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


def _segment_ca_subject(dep: Deployment, segment: Segment) -> x509.Name:
    return name((NameOID.ORGANIZATION_NAME, _org(dep)), (NameOID.COMMON_NAME, f"{segment.id} CA"))


def _service_subject(dep: Deployment, *, role: str, instance: str) -> x509.Name:
    return name(
        (NameOID.ORGANIZATION_NAME, _org(dep)),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, role),
        (NameOID.COMMON_NAME, instance),
    )


def _service_sans(dep: Deployment, *, role: str, instance: str) -> list[x509.GeneralName]:
    sans: list[x509.GeneralName] = [
        x509.UniformResourceIdentifier(spiffe_uri(deployment=dep.deployment.name, role=role, instance=instance)),
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.IPv4Address("127.0.0.1")),
    ]
    hosts = {svc.instance: svc.host for _role, svc in dep.services()}
    for extra in host_names(hosts.get(instance, "127.0.0.1")):
        if extra not in sans:
            sans.append(extra)
    return sans


def _issue_service(
    dep: Deployment,
    segment: Segment,
    *,
    instance: str,
    ca: Authority,
    now: dt.datetime,
    not_after: dt.datetime | None = None,
) -> None:
    role = find_member(segment, instance).value
    paths = KeyLayout.of(dep.key_dir).service(instance, segment.file_stem)
    end = not_after if not_after is not None else now + SERVICE_CERT_VALIDITY
    start = min(now - BACKDATE, end - dt.timedelta(days=1))
    key = generate_ec_key()
    cert = build_leaf_certificate(
        subject=_service_subject(dep, role=role, instance=instance),
        public_key=key.public_key(),
        issuer=ca.pair,
        profile=CertificateProfile.service(),
        not_before=start,
        not_after=end,
        subject_alt_names=_service_sans(dep, role=role, instance=instance),
    )
    write_private_key(paths.key, key)
    _write_cert(paths.cert, cert)


def _service_current(dep: Deployment, segment: Segment, *, instance: str, ca: Authority, now: dt.datetime) -> bool:
    role = find_member(segment, instance).value
    paths = KeyLayout.of(dep.key_dir).service(instance, segment.file_stem)
    if not _still_good(paths, issuer=ca, subject=_service_subject(dep, role=role, instance=instance), now=now):
        return False
    cert = load_certificate(paths.cert)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    return set(san) == set(_service_sans(dep, role=role, instance=instance))


def _city_subjects(city: CityConfig) -> tuple[x509.Name, x509.Name]:
    document_signing = name(
        (NameOID.COUNTRY_NAME, "JP"),
        (NameOID.ORGANIZATION_NAME, city.name),
        (NameOID.COMMON_NAME, f"{city.mayor_title} 公印"),
    )
    counter = name(
        (NameOID.COUNTRY_NAME, "JP"),
        (NameOID.ORGANIZATION_NAME, city.name),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, city.code),
        (NameOID.COMMON_NAME, f"{city.name} 窓口"),
    )
    return document_signing, counter


def _ensure_city_leaf(
    paths: CertKeyPaths, *, subject: x509.Name, profile: CertificateProfile, root: Authority, now: dt.datetime
) -> int:
    if _still_good(paths, issuer=root, subject=subject, now=now):
        return 0
    key = generate_ec_key()
    cert = build_leaf_certificate(
        subject=subject,
        public_key=key.public_key(),
        issuer=root.pair,
        profile=profile,
        not_before=now - BACKDATE,
        not_after=now + CITY_CERT_VALIDITY,
    )
    write_private_key(paths.key, key)
    _write_cert(paths.cert, cert)
    return 1


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


def init_pki(dep: Deployment, *, clock: Clock | None = None) -> PkiSummary:
    """Create every CA, certificate and secret the deployment needs; keep what is already there and valid.

    Idempotent: a second run issues nothing. A certificate that no longer chains to its CA, has expired,
    or names the wrong host is re-issued; a CA found without its key (or the reverse) is refused.
    """
    now = _now(clock)
    layout = KeyLayout.of(dep.key_dir)
    ensure_private_dir(layout.root)
    issued = 0
    with exclusive_lock(layout.lock):
        segment_list = segments(dep)
        service_count = 0
        for segment in segment_list:
            ca, n = _ensure_root(
                layout.segment_ca(segment.file_stem),
                key_dir=dep.key_dir,
                subject=_segment_ca_subject(dep, segment),
                rsa_key=False,
                path_length=0,
                validity=SEGMENT_CA_VALIDITY,
                now=now,
            )
            issued += n
            for member in (*segment.servers, *segment.clients):
                service_count += 1
                if not _service_current(dep, segment, instance=member.instance, ca=ca, now=now):
                    _issue_service(dep, segment, instance=member.instance, ca=ca, now=now)
                    issued += 1

        root_name, auth_name = jpki_names(dep)
        jpki_root, n = _ensure_root(
            layout.jpki_root,
            key_dir=dep.key_dir,
            subject=root_name,
            rsa_key=True,
            path_length=1,
            validity=JPKI_ROOT_VALIDITY,
            now=now,
        )
        issued += n
        jpki_auth, n = _ensure_intermediate(
            layout.jpki_auth, key_dir=dep.key_dir, root=jpki_root, subject=auth_name, now=now
        )
        issued += n
        ensure_crl(layout, issuer=jpki_auth, now=now)

        lgpki_root, n = _ensure_root(
            layout.lgpki_root,
            key_dir=dep.key_dir,
            subject=name(
                (NameOID.COUNTRY_NAME, "JP"),
                (NameOID.ORGANIZATION_NAME, _org(dep)),
                (NameOID.ORGANIZATIONAL_UNIT_NAME, "LGPKI stand-in"),
                (NameOID.COMMON_NAME, "Government Organisation Root CA"),
            ),
            rsa_key=False,
            path_length=0,
            validity=LGPKI_ROOT_VALIDITY,
            now=now,
        )
        issued += n
        for city in dep.cities:
            document_signing, counter = _city_subjects(city)
            issued += _ensure_city_leaf(
                layout.document_signing(city.code),
                subject=document_signing,
                profile=CertificateProfile.document_signing(),
                root=lgpki_root,
                now=now,
            )
            issued += _ensure_city_leaf(
                layout.counter(city.code),
                subject=counter,
                profile=CertificateProfile.counter(),
                root=lgpki_root,
                now=now,
            )

        if layout.chip_secret.exists():
            load_secret(layout.chip_secret, key_dir=dep.key_dir)  # checks it is intact and private
        else:
            write_secret(layout.chip_secret, new_secret())
        ensure_private_dir(layout.card_state_dir)
        ensure_private_dir(layout.issued_cards_dir)
    return PkiSummary(
        certificate_authorities=len(segment_list) + 3,
        service_certificates=service_count,
        cities=len(dep.cities),
        issued_now=issued,
    )


def issue_service_certificate(
    dep: Deployment,
    *,
    instance: str,
    segment_id: str,
    not_after: dt.datetime | None = None,
    clock: Clock | None = None,
) -> ServiceIdentity:
    """Issue (or re-issue) INSTANCE's certificate and new key on SEGMENT_ID from that segment's CA.

    NOT_AFTER overrides the usual two-year validity; a past date makes an expired certificate for tests.
    Unknown segments or instances raise NotFoundError before anything is written.
    """
    segment = find_segment(dep, segment_id)
    find_member(segment, instance)
    layout = KeyLayout.of(dep.key_dir)
    ca_paths = layout.segment_ca(segment.file_stem)
    if not ca_paths.cert.exists():
        raise NotFoundError(
            f"{ca_paths.cert}: the segment CA is missing (run `yakuba pki init DIR`)",
            ja=f"{ca_paths.cert}: ネットワーク区分のCAがありません（`yakuba pki init DIR` を実行してください）",
        )
    with exclusive_lock(layout.lock):
        ca = load_authority(ca_paths, key_dir=dep.key_dir)
        _issue_service(dep, segment, instance=instance, ca=ca, now=_now(clock), not_after=not_after)
    return load_service_identity(dep, instance=instance, segment_id=segment.id)


def card_subject(serial: str) -> x509.Name:
    """A card certificate's subject: no personal attribute, only the card serial as CN."""
    return name(
        (NameOID.COUNTRY_NAME, "JP"),
        (NameOID.ORGANIZATION_NAME, "JPKI"),
        (NameOID.COMMON_NAME, serial),
    )


def issue_card_certificate(
    dep: Deployment, *, public_key: rsa.RSAPublicKey, serial: str, now: dt.datetime
) -> x509.Certificate:
    """The user-authentication certificate for a new card, from the JPKI intermediate; a copy is kept."""
    layout = KeyLayout.of(dep.key_dir)
    auth = load_authority(layout.jpki_auth, key_dir=dep.key_dir)
    cert = build_leaf_certificate(
        subject=card_subject(serial),
        public_key=public_key,
        issuer=auth.pair,
        profile=CertificateProfile.card(),
        not_before=now - BACKDATE,
        not_after=min(now + CARD_CERT_VALIDITY, auth.cert.not_valid_after_utc),
        serial_number=int(serial, 16),
    )
    _write_cert(layout.issued_card(serial), cert)
    return cert
