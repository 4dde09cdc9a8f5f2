"""The deployment's certificate authorities: creating them, and issuing service, city and card certificates."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509
from cryptography.x509.oid import NameOID

from yakuba.clock import Clock
from yakuba.config import Deployment, Segment, segments
from yakuba.pki._atomic import exclusive_lock
from yakuba.pki._ca import (
    JPKI_AUTH_VALIDITY,
    JPKI_ROOT_VALIDITY,
    LGPKI_ROOT_VALIDITY,
    SEGMENT_CA_VALIDITY,
    Authority,
    _ensure_intermediate,
    _ensure_root,
    _now,
    _org,
    jpki_names,
    load_authority,
)
from yakuba.pki._certs import CertificateProfile, name
from yakuba.pki._issuance import (
    CARD_CERT_VALIDITY,
    CITY_CERT_VALIDITY,
    SERVICE_CERT_VALIDITY,
    _city_subjects,
    _ensure_city_leaf,
    _issue_service,
    _service_current,
    card_subject,
    issue_card_certificate,
    issue_service_certificate,
)
from yakuba.pki._keys import ensure_private_dir, load_secret, new_secret, write_secret
from yakuba.pki._layout import KeyLayout
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


def _segment_ca_subject(dep: Deployment, segment: Segment) -> x509.Name:
    return name((NameOID.ORGANIZATION_NAME, _org(dep)), (NameOID.COMMON_NAME, f"{segment.id} CA"))


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
