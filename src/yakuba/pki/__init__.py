"""The deployment's PKI: per-segment CAs and service certificates, the JPKI and LGPKI stand-ins, revocation."""

from yakuba.pki._authority import (
    CARD_CERT_VALIDITY,
    SERVICE_CERT_VALIDITY,
    PkiSummary,
    init_pki,
    issue_service_certificate,
)
from yakuba.pki._card_trust import CARD_KEY_BITS, CardTrust
from yakuba.pki._certs import DOCUMENT_SIGNING_EKU, fingerprint_sha256, spiffe_uri
from yakuba.pki._crl_watch import CrlWatcher, card_was_issued
from yakuba.pki._identity import PeerIdentity, ServiceIdentity, load_service_identity, peer_identity_from_der
from yakuba.pki._inventory import CertificateInfo, CertificateKind, list_certificates
from yakuba.pki._revocation import (
    CRL_VALIDITY,
    REVOCATION_REASONS,
    add_lapsed_serials,
    is_revoked,
    load_crl,
    revoke_card,
)

__all__ = [
    "CARD_CERT_VALIDITY",
    "CARD_KEY_BITS",
    "CRL_VALIDITY",
    "DOCUMENT_SIGNING_EKU",
    "REVOCATION_REASONS",
    "SERVICE_CERT_VALIDITY",
    "CardTrust",
    "CertificateInfo",
    "CertificateKind",
    "CrlWatcher",
    "PeerIdentity",
    "PkiSummary",
    "ServiceIdentity",
    "add_lapsed_serials",
    "card_was_issued",
    "fingerprint_sha256",
    "init_pki",
    "is_revoked",
    "issue_service_certificate",
    "list_certificates",
    "load_crl",
    "load_service_identity",
    "peer_identity_from_der",
    "revoke_card",
    "spiffe_uri",
]
