"""Service identities: which files a role instance presents and trusts, and who a peer certificate names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

from cryptography import x509

from yakuba.config import Deployment, Role, Segment, segments
from yakuba.errors import NotFoundError, VerificationError
from yakuba.pki._certs import SPIFFE_TRUST_DOMAIN_PREFIX, spiffe_uri
from yakuba.pki._keys import check_private_file
from yakuba.pki._layout import KeyLayout

__all__ = [
    "PeerIdentity",
    "ServiceIdentity",
    "find_member",
    "find_segment",
    "load_service_identity",
    "peer_identity_from_der",
]

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
"""Instance ids and deployment names, as the configuration allows them."""


@dataclass(frozen=True, slots=True)
class ServiceIdentity:
    """The files one role instance uses on one segment: its certificate and key, and the CA it trusts."""

    deployment: str
    segment_id: str
    role: Role
    instance: str
    cert_path: Path
    key_path: Path
    ca_path: Path

    @property
    def spiffe_id(self) -> str:
        return spiffe_uri(deployment=self.deployment, role=self.role.value, instance=self.instance)


class PeerIdentity(NamedTuple):
    """Who a peer's service certificate says it is."""

    role: Role
    instance: str
    deployment: str


def find_segment(dep: Deployment, segment_id: str) -> Segment:
    """The segment with this id, or a NotFoundError listing the known ones."""
    known = segments(dep)
    for segment in known:
        if segment.id == segment_id or segment.file_stem == segment_id:
            return segment
    ids = ", ".join(s.id for s in known)
    raise NotFoundError(
        f"no network segment {segment_id!r} in this deployment (known: {ids})",
        ja=f"ネットワーク区分 {segment_id!r} はこのデプロイメントにありません（既知: {ids}）",
    )


def find_member(segment: Segment, instance: str) -> Role:
    """The role INSTANCE plays on SEGMENT, or a NotFoundError listing the members."""
    for member in (*segment.servers, *segment.clients):
        if member.instance == instance:
            return member.role
    members = ", ".join(m.instance for m in (*segment.servers, *segment.clients))
    raise NotFoundError(
        f"instance {instance!r} is not on segment {segment.id} (members: {members})",
        ja=f"インスタンス {instance!r} はネットワーク区分 {segment.id} にありません（所属: {members}）",
    )


def load_service_identity(dep: Deployment, *, instance: str, segment_id: str) -> ServiceIdentity:
    """The identity INSTANCE uses on SEGMENT_ID, after checking its files exist and its key is private."""
    segment = find_segment(dep, segment_id)
    role = find_member(segment, instance)
    layout = KeyLayout.of(dep.key_dir)
    paths = layout.service(instance, segment.file_stem)
    ca = layout.segment_ca(segment.file_stem)
    for needed in (paths.cert, paths.key, ca.cert):
        if not needed.is_file():
            raise NotFoundError(
                f"{needed}: missing (run `yakuba pki init DIR`)",
                ja=f"{needed}: ありません（`yakuba pki init DIR` を実行してください）",
            )
    # The TLS library reads the key file itself; check its permissions here, where we still can.
    check_private_file(paths.key, key_dir=dep.key_dir)
    return ServiceIdentity(
        deployment=dep.deployment.name,
        segment_id=segment.id,
        role=role,
        instance=instance,
        cert_path=paths.cert,
        key_path=paths.key,
        ca_path=ca.cert,
    )


def peer_identity_from_der(der: bytes) -> PeerIdentity:
    """The (role, instance, deployment) named by a peer certificate's SPIFFE URI SAN.

    The chain must already have been verified against the segment CA (the TLS handshake does that);
    this only reads the name. Exactly one spiffe:// URI is accepted, of the form
    spiffe://yakuba.<deployment>/<role>/<instance>; anything else raises VerificationError.
    """
    try:
        cert = x509.load_der_x509_certificate(der)
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound as exc:
        raise _bad_peer("the peer certificate has no subject alternative name") from exc
    except ValueError as exc:
        raise _bad_peer("the peer certificate is not valid DER") from exc
    uris = [u for u in san.get_values_for_type(x509.UniformResourceIdentifier) if u.startswith("spiffe:")]
    if len(uris) != 1:
        raise _bad_peer(f"the peer certificate has {len(uris)} SPIFFE ids; exactly one is required")
    parts = urlsplit(uris[0])
    host = parts.netloc
    segments_ = parts.path.split("/")
    if (
        parts.scheme != "spiffe"
        or not host.startswith(SPIFFE_TRUST_DOMAIN_PREFIX)
        or parts.query
        or parts.fragment
        or len(segments_) != 3
        or segments_[0] != ""
    ):
        raise _bad_peer("the peer's SPIFFE id is malformed")
    deployment = host[len(SPIFFE_TRUST_DOMAIN_PREFIX) :]
    role_text, instance = segments_[1], segments_[2]
    if not (_NAME.match(deployment) and _NAME.match(instance)):
        raise _bad_peer("the peer's SPIFFE id is malformed")
    try:
        role = Role(role_text)
    except ValueError as exc:
        raise _bad_peer("the peer's SPIFFE id names an unknown role") from exc
    return PeerIdentity(role=role, instance=instance, deployment=deployment)


def _bad_peer(detail: str) -> VerificationError:
    return VerificationError(detail, ja="通信相手の証明書からサービスの身元を確認できません")
