"""Careful: the city's document-signing key. PAdES signatures (pyHanko) and QR summary signatures."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

from asn1crypto import cms
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko_certvalidator.registry import SimpleCertificateStore

from yakuba.documents._cms import CmsTemplate
from yakuba.documents._incremental import SignatureLayout
from yakuba.errors import ConfigError

__all__ = ["SIGNATURE_BYTES_RESERVED", "SIGNATURE_FIELD", "DocumentSigner"]

SIGNATURE_FIELD = "CitySeal"
"""The one signature field of a certificate PDF."""

SIGNATURE_BYTES_RESERVED = 8192
"""Room for the CMS (P-256 signature + 2-3 certificates, ~2 KB), in hex digits as pyHanko counts it;
reserving it skips pyHanko's sizing pass."""

SIGNATURE_REASON = "公印 (city seal): certified copy issued by the city"

P256_COORDINATE_BYTES = 32


class _TemplateCmsSigner(signers.SimpleSigner):
    """pyHanko's SimpleSigner, with the constant parts of its CMS container encoded once per process.

    pyHanko re-encodes certificates and attributes with asn1crypto for every signature (~8 ms, most of the
    signing time). The first container is built by pyHanko itself; later ones are assembled from its DER
    (`CmsTemplate`), changing only the message digest and the signature. Anything unusual (dry runs,
    timestamps, other digests, other attributes) falls back to pyHanko's own path.
    """

    def __init__(self, *, private_key: ec.EllipticCurvePrivateKey, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._key = private_key
        self.template: CmsTemplate | None = None

    async def async_sign(
        self,
        data_digest: bytes,
        digest_algorithm: str,
        dry_run: bool = False,
        use_pades: bool = False,
        timestamper: Any = None,
        signed_attr_settings: Any = None,
        is_pdf_sig: bool = True,
        encap_content_info: Any = None,
    ) -> cms.ContentInfo:
        usual = not dry_run and timestamper is None and encap_content_info is None and is_pdf_sig and use_pades
        if usual and digest_algorithm.lower() == "sha256" and self.template is not None:
            return cms.ContentInfo.load(self.template.sign(data_digest, self._key))
        built: cms.ContentInfo = await super().async_sign(
            data_digest,
            digest_algorithm,
            dry_run=dry_run,
            use_pades=use_pades,
            timestamper=timestamper,
            signed_attr_settings=signed_attr_settings,
            is_pdf_sig=is_pdf_sig,
            encap_content_info=encap_content_info,
        )
        if usual and digest_algorithm.lower() == "sha256":
            self.template = CmsTemplate.capture(built)
        return built


class DocumentSigner:
    """The city's document-signing certificate and key, loaded once per process and reused.

    This is the one place that touches the private key: keep it out of logs and never pass it around.
    """

    def __init__(
        self,
        *,
        city_code: str,
        certificate: x509.Certificate,
        private_key: ec.EllipticCurvePrivateKey,
        chain: tuple[x509.Certificate, ...] = (),
    ) -> None:
        if not isinstance(private_key.curve, ec.SECP256R1):
            raise ConfigError("the document-signing key must be ECDSA P-256")
        public = certificate.public_key()
        if not isinstance(public, ec.EllipticCurvePublicKey) or (
            public.public_numbers() != private_key.public_key().public_numbers()
        ):
            raise ConfigError("the document-signing certificate does not match its private key")
        self.city_code = city_code
        self.certificate = certificate
        self.chain = chain
        self._private_key = private_key
        der_key = private_key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        signing_cert = asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))
        others = [asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in chain]
        self._cms_signer = _TemplateCmsSigner(
            private_key=private_key,
            signing_cert=signing_cert,
            signing_key=asn1_keys.PrivateKeyInfo.load(der_key),
            cert_registry=SimpleCertificateStore.from_certs([signing_cert, *others]),  # type: ignore[no-untyped-call]
        )
        self._pdf_signer = signers.PdfSigner(
            signers.PdfSignatureMetadata(
                field_name=SIGNATURE_FIELD,
                subfilter=SigSeedSubFilter.PADES,
                md_algorithm="sha256",
                reason=SIGNATURE_REASON,
                location=city_code,
            ),
            signer=self._cms_signer,
        )

    @classmethod
    def from_files(
        cls, *, city_code: str, certificate: Path, private_key: Path, chain: tuple[Path, ...] = ()
    ) -> DocumentSigner:
        """Load a PEM certificate, its PEM (PKCS#8, unencrypted) key and the chain up to the root."""
        try:
            cert = x509.load_pem_x509_certificate(certificate.read_bytes())
            key = serialization.load_pem_private_key(private_key.read_bytes(), password=None)
            others = tuple(x509.load_pem_x509_certificate(p.read_bytes()) for p in chain)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot load the document-signing certificate or key: {exc}") from exc
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ConfigError(f"{private_key}: not an EC private key")
        return cls(city_code=city_code, certificate=cert, private_key=key, chain=others)

    @classmethod
    def from_key_dir(cls, key_dir: Path, city_code: str) -> DocumentSigner:
        """The signer `init_pki` created for CITY_CODE, its key loaded with the PKI's permission checks."""
        from yakuba.pki._keys import load_private_key
        from yakuba.pki._layout import KeyLayout

        layout = KeyLayout.of(key_dir)
        paths = layout.document_signing(city_code)
        try:
            cert = x509.load_pem_x509_certificate(paths.cert.read_bytes())
            root = x509.load_pem_x509_certificate(layout.lgpki_root.cert.read_bytes())
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot load the document-signing certificate of city {city_code}: {exc}") from exc
        key = load_private_key(paths.key, key_dir=key_dir)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ConfigError(f"{paths.key}: not an EC private key")
        return cls(city_code=city_code, certificate=cert, private_key=key, chain=(root,))

    def sign_summary(self, payload: bytes) -> bytes:
        """ECDSA P-256 / SHA-256 over PAYLOAD, as raw r||s (64 bytes, compact for the QR)."""
        der = self._private_key.sign(payload, ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return r.to_bytes(P256_COORDINATE_BYTES, "big") + s.to_bytes(P256_COORDINATE_BYTES, "big")

    def sign_pdf(self, pdf: bytes) -> bytes:
        """PDF with a PAdES baseline (B-B) signature appended as an incremental update; no network access.

        The first document of a process is signed by pyHanko, which gives the CMS template; later plain
        typst PDFs get the same update written directly (`SignatureLayout`), anything else goes to pyHanko.
        """
        template = self._cms_signer.template
        layout = SignatureLayout.read(pdf) if template is not None else None
        if template is None or layout is None:
            return self._sign_with_pyhanko(pdf)
        return layout.sign(
            pdf,
            field=SIGNATURE_FIELD,
            reason=SIGNATURE_REASON,
            location=self.city_code,
            reserved_hex=SIGNATURE_BYTES_RESERVED,
            cms=lambda digest: template.sign(digest, self._private_key),
        )

    def _sign_with_pyhanko(self, pdf: bytes) -> bytes:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        out = io.BytesIO()
        self._pdf_signer.sign_pdf(writer, output=out, bytes_reserved=SIGNATURE_BYTES_RESERVED)
        return out.getvalue()

    def not_after(self) -> dt.datetime:
        return self.certificate.not_valid_after_utc
