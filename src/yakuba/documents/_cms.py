"""Careful: the PAdES CMS container, assembled from the DER of pyHanko's own first container.

pyHanko builds the CMS SignedData of a PAdES B-B signature with asn1crypto, re-encoding the certificates and
attributes for every document. For one signer everything in it is constant except the message digest (32
bytes inside the signed attributes) and the ECDSA signature over those attributes. `CmsTemplate` keeps the
DER of the constant parts of a container pyHanko built and assembles the next ones from bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

from asn1crypto import cms, core
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

__all__ = ["PADES_SIGNED_ATTRIBUTES", "CmsTemplate", "der"]

PADES_SIGNED_ATTRIBUTES = frozenset({"content_type", "message_digest", "signing_certificate_v2"})
"""The signed attributes of pyHanko's PAdES B-B container: no signing time (PAdES puts it in /M)."""

SHA256_BYTES = 32

_SEQUENCE = 0x30
_SET = 0x31
_OCTET_STRING = 0x04
_CONTEXT_0 = 0xA0
"""[0] constructed: IMPLICIT for SignerInfo.signedAttrs, EXPLICIT for ContentInfo.content."""


def der(tag: int, body: bytes) -> bytes:
    """One DER TLV with the minimal length encoding DER demands."""
    size = len(body)
    if size < 0x80:
        return bytes((tag, size)) + body
    width = (size.bit_length() + 7) // 8
    return bytes((tag, 0x80 | width)) + size.to_bytes(width, "big") + body


@dataclass(frozen=True, slots=True, kw_only=True)
class CmsTemplate:
    """A signer's CMS container as DER pieces around the message digest and the signature."""

    content_type: bytes
    """ContentInfo.contentType (id-signedData), DER."""
    signed_data_head: bytes
    """SignedData up to its signerInfos: version, digest algorithms, encapsulated content info, certificates."""
    signer_info_head: bytes
    """SignerInfo up to its signed attributes: version, signer identifier, digest algorithm."""
    attributes_before_digest: bytes
    attributes_after_digest: bytes
    signature_algorithm: bytes

    @classmethod
    def capture(cls, container: cms.ContentInfo) -> CmsTemplate | None:
        """The template of CONTAINER, or None if it is not the plain one-signer PAdES B-B shape we expect.

        The split is proven exact: re-assembling the container from the pieces with its own digest and
        signature must give back its DER byte for byte.
        """
        if container["content_type"].native != "signed_data":
            return None
        signed_data = container["content"]
        infos = signed_data["signer_infos"]
        if len(infos) != 1:
            return None
        info = infos[0]
        if not isinstance(info["unsigned_attrs"], core.Void):
            return None
        if info["digest_algorithm"]["algorithm"].native != "sha256":
            return None
        if info["signature_algorithm"]["algorithm"].native != "sha256_ecdsa":
            return None
        attributes = info["signed_attrs"]
        if {a["type"].native for a in attributes} != PADES_SIGNED_ATTRIBUTES or len(attributes) != 3:
            return None
        digests = next(a["values"] for a in attributes if a["type"].native == "message_digest")
        if len(digests) != 1 or len(digests[0].native) != SHA256_BYTES:
            return None
        digest = digests[0].native
        body = attributes.contents
        if body.count(digest) != 1:
            return None
        at = body.index(digest)
        infos_der = infos.dump()
        if not signed_data.contents.endswith(infos_der):
            return None
        template = cls(
            content_type=container["content_type"].dump(),
            signed_data_head=signed_data.contents[: -len(infos_der)],
            signer_info_head=b"".join(info[name].dump() for name in ("version", "sid", "digest_algorithm")),
            attributes_before_digest=body[:at],
            attributes_after_digest=body[at + SHA256_BYTES :],
            signature_algorithm=info["signature_algorithm"].dump(),
        )
        if template.assemble(digest, info["signature"].native) != container.dump():
            return None
        return template

    def signed_attributes(self, digest: bytes) -> bytes:
        """The DER SET OF signed attributes for DIGEST: the exact bytes the signature covers (RFC 5652 5.4)."""
        if len(digest) != SHA256_BYTES:
            raise ValueError("the CMS template holds a SHA-256 message digest")
        return der(_SET, self.attributes_before_digest + digest + self.attributes_after_digest)

    def assemble(self, digest: bytes, signature: bytes) -> bytes:
        """The DER ContentInfo for DIGEST with SIGNATURE over `signed_attributes(digest)`."""
        attributes = self.attributes_before_digest + digest + self.attributes_after_digest
        signer_info = der(
            _SEQUENCE,
            self.signer_info_head
            + der(_CONTEXT_0, attributes)
            + self.signature_algorithm
            + der(_OCTET_STRING, signature),
        )
        signed_data = der(_SEQUENCE, self.signed_data_head + der(_SET, signer_info))
        return der(_SEQUENCE, self.content_type + der(_CONTEXT_0, signed_data))

    def sign(self, digest: bytes, key: ec.EllipticCurvePrivateKey) -> bytes:
        """The DER ContentInfo signing DIGEST (SHA-256 of the PDF's byte ranges) with KEY (ECDSA P-256)."""
        return self.assemble(digest, key.sign(self.signed_attributes(digest), ec.ECDSA(hashes.SHA256())))
