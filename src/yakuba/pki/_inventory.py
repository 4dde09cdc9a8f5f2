"""What the key folder holds: every CA, service, city and card certificate and the CRL, for `yakuba pki show`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from yakuba.config import Deployment, segments
from yakuba.pki._certs import fingerprint_sha256, load_certificate
from yakuba.pki._layout import KeyLayout
from yakuba.pki._revocation import load_crl

__all__ = ["CertificateInfo", "CertificateKind", "list_certificates"]


class CertificateKind:
    """The kinds `list_certificates` reports, in display order."""

    SEGMENT_CA = "segment-ca"
    JPKI_ROOT = "jpki-root"
    JPKI_CA = "jpki-ca"
    LGPKI_ROOT = "lgpki-root"
    SERVICE = "service"
    DOCUMENT_SIGNING = "document-signing"
    COUNTER = "counter"
    CARD = "card"
    CRL = "crl"


@dataclass(frozen=True, slots=True)
class CertificateInfo:
    """One certificate (or the CRL) as listed by `yakuba pki show`."""

    kind: str
    name: str
    subject: str
    issuer: str
    serial: str
    not_after: dt.datetime
    fingerprint: str
    path: Path
    revoked: bool = False


def _info(kind: str, label: str, path: Path, *, revoked_serials: frozenset[int]) -> CertificateInfo:
    cert = load_certificate(path)
    return CertificateInfo(
        kind=kind,
        name=label,
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        serial=format(cert.serial_number, "X"),
        not_after=cert.not_valid_after_utc,
        fingerprint=fingerprint_sha256(cert.public_bytes(serialization.Encoding.DER)),
        path=path,
        revoked=kind == CertificateKind.CARD and cert.serial_number in revoked_serials,
    )


def list_certificates(dep: Deployment, *, include_cards: bool = True) -> list[CertificateInfo]:
    """Every certificate in the key folder, CAs first; missing files raise ConfigError (run init first)."""
    layout = KeyLayout.of(dep.key_dir)
    crl = load_crl(dep)
    revoked = frozenset(entry.serial_number for entry in crl)
    out: list[CertificateInfo] = []

    def add(kind: str, label: str, path: Path) -> None:
        out.append(_info(kind, label, path, revoked_serials=revoked))

    segment_list = segments(dep)
    for segment in segment_list:
        add(CertificateKind.SEGMENT_CA, segment.id, layout.segment_ca(segment.file_stem).cert)
    add(CertificateKind.JPKI_ROOT, "jpki-root", layout.jpki_root.cert)
    add(CertificateKind.JPKI_CA, "jpki-auth", layout.jpki_auth.cert)
    add(CertificateKind.LGPKI_ROOT, "lgpki-root", layout.lgpki_root.cert)
    for segment in segment_list:
        for member in (*segment.servers, *segment.clients):
            add(
                CertificateKind.SERVICE,
                f"{member.instance} @ {segment.id}",
                layout.service(member.instance, segment.file_stem).cert,
            )
    for city in dep.cities:
        add(CertificateKind.DOCUMENT_SIGNING, city.code, layout.document_signing(city.code).cert)
        add(CertificateKind.COUNTER, city.code, layout.counter(city.code).cert)
    if include_cards and layout.issued_cards_dir.is_dir():
        for path in sorted(layout.issued_cards_dir.glob("*.crt")):
            add(CertificateKind.CARD, path.stem, path)
    next_update = crl.next_update_utc or crl.last_update_utc
    try:
        number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    except x509.ExtensionNotFound:
        number = 0
    out.append(
        CertificateInfo(
            kind=CertificateKind.CRL,
            name=f"jpki-auth CRL ({len(revoked)} revoked)",
            subject=crl.issuer.rfc4514_string(),
            issuer=crl.issuer.rfc4514_string(),
            serial=str(number),
            not_after=next_update,
            fingerprint=fingerprint_sha256(crl.public_bytes(serialization.Encoding.DER)),
            path=layout.jpki_crl,
        )
    )
    return out
