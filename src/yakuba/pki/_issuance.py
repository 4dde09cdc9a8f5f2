"""Issuing end-entity certificates from the deployment's CAs: service, city and card certificates."""

from __future__ import annotations

import datetime as dt
import ipaddress

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from yakuba.clock import Clock
from yakuba.config import CityConfig, Deployment, Segment
from yakuba.errors import NotFoundError
from yakuba.pki._atomic import exclusive_lock
from yakuba.pki._ca import Authority, _now, _org, _still_good, _write_cert, load_authority
from yakuba.pki._certs import (
    BACKDATE,
    CertificateProfile,
    build_leaf_certificate,
    host_names,
    load_certificate,
    name,
    spiffe_uri,
)
from yakuba.pki._identity import ServiceIdentity, find_member, find_segment, load_service_identity
from yakuba.pki._keys import generate_ec_key, write_private_key
from yakuba.pki._layout import CertKeyPaths, KeyLayout

__all__ = [
    "CARD_CERT_VALIDITY",
    "CITY_CERT_VALIDITY",
    "SERVICE_CERT_VALIDITY",
    "card_subject",
    "issue_card_certificate",
    "issue_service_certificate",
]

SERVICE_CERT_VALIDITY = dt.timedelta(days=2 * 365)
"""About two years: short enough that a forgotten service key ages out, long enough for a sample."""

CARD_CERT_VALIDITY = dt.timedelta(days=5 * 365)
"""The real user-authentication certificate is valid for about five years."""

CITY_CERT_VALIDITY = dt.timedelta(days=3 * 365)
"""City document-signing and counter certificates are renewed every few years, as LGPKI ones are."""


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
