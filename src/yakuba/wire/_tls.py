"""TLS contexts for mutual TLS between roles; careful: every trust decision of the network is made here."""

from __future__ import annotations

import ssl
from pathlib import Path

from cryptography import x509

from yakuba.config import Role
from yakuba.errors import ConfigError, VerificationError
from yakuba.pki import PeerIdentity, ServiceIdentity, peer_identity_from_der

__all__ = [
    "MIN_TLS_VERSION",
    "TLS12_CIPHERS",
    "PeerCheckingSSLObject",
    "certificate_serial",
    "client_ssl_context",
    "server_ssl_context",
]

MIN_TLS_VERSION = ssl.TLSVersion.TLSv1_2
"""TLS 1.3 is negotiated whenever both ends have it (always, between yakuba services); 1.2 is the floor
for older load balancers and kiosks, and nothing older is accepted (BEAST, CBC padding oracles, RC4)."""

TLS12_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20"
"""For TLS 1.2 only: forward-secret AEAD suites; no RSA key transport, no CBC, no SHA-1 MACs."""


def server_ssl_context(identity: ServiceIdentity, *, crl_path: Path | None = None) -> ssl.SSLContext:
    """The listening side of one segment: present IDENTITY's certificate, require a client certificate.

    1. TLS 1.2 at least, AEAD suites only (stops downgrade to broken protocols).
    2. Trust ONLY the segment CA of IDENTITY, not the system store (stops a certificate from another
       segment or a public CA getting in: each network is its own trust domain).
    3. Require a client certificate and verify it strictly (stops anonymous callers at the handshake).
    4. With CRL_PATH (a CRL of the segment CA), refuse revoked client certificates in the handshake
       (stops a stolen, revoked service key); without it, the connection hook's revoked-serial set applies.
    Raises ConfigError if a file is missing or unusable.

    A refused client sees its connection reset rather than a "certificate required" alert: asyncio and uvloop
    abort a failed handshake without flushing the pending alert, and Python cannot send the acceptable CA
    names. The CertificateRequest itself is visible (``openssl s_client`` prints its signature algorithms).
    """
    try:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        # Step 1
        ctx.minimum_version = MIN_TLS_VERSION
        ctx.set_ciphers(TLS12_CIPHERS)
        ctx.options |= ssl.OP_NO_RENEGOTIATION
        ctx.load_cert_chain(certfile=identity.cert_path, keyfile=identity.key_path)
        # Step 2
        ctx.load_verify_locations(cafile=identity.ca_path)
        # Step 3
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.verify_flags |= ssl.VERIFY_X509_STRICT
        # Step 4
        if crl_path is not None:
            ctx.load_verify_locations(cafile=crl_path)
            ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"cannot set up TLS for {identity.instance} on {identity.segment_id} ({type(exc).__name__})",
            ja=f"{identity.instance} の TLS を設定できません（{identity.segment_id}）",
        ) from exc
    return ctx


class _PeerCheckingContext(ssl.SSLContext):
    """A client context that also knows which role and deployment the server must be."""

    expected_role: Role
    expected_deployment: str


class PeerCheckingSSLObject(ssl.SSLObject):
    """An SSL object that, once the handshake verified the chain and host, checks the peer's SPIFFE id.

    Runs inside the handshake, so a server of the wrong role never receives a byte of the request.
    The parsed identity is kept on the object (`peer`) for the life of the connection.
    """

    peer: PeerIdentity | None = None

    def do_handshake(self) -> None:
        super().do_handshake()
        ctx = self.context
        if not isinstance(ctx, _PeerCheckingContext):
            return
        der = self.getpeercert(binary_form=True)
        if der is None:  # pragma: no cover - CERT_REQUIRED makes OpenSSL fail first
            raise ssl.SSLCertVerificationError("the server presented no certificate")
        try:
            peer = peer_identity_from_der(der)
        except VerificationError as exc:
            raise ssl.SSLCertVerificationError(f"server identity unreadable: {exc.text_en}") from exc
        if peer.deployment != ctx.expected_deployment:
            raise ssl.SSLCertVerificationError("the server belongs to another deployment")
        if peer.role != ctx.expected_role:
            raise ssl.SSLCertVerificationError(
                f"the server is a {peer.role.value}, not the expected {ctx.expected_role.value}"
            )
        self.peer = peer


def client_ssl_context(identity: ServiceIdentity, *, expected_role: Role) -> ssl.SSLContext:
    """The calling side of one segment: present IDENTITY's certificate, accept only a server of EXPECTED_ROLE.

    1. TLS 1.2 at least, AEAD suites only (stops downgrade).
    2. Trust ONLY the segment CA of IDENTITY (stops a server certificate from another segment or a public CA).
    3. Check the host name or IP address against the certificate's SANs (stops a valid certificate of the
       segment being replayed from another address).
    4. In the handshake, check the server's SPIFFE id names EXPECTED_ROLE in our deployment (stops another
       member of the segment, say a kiosk whose key leaked, posing as the store HQ).
    Build it once per process and share it: contexts are costly, connections reuse it.
    """
    try:
        ctx = _PeerCheckingContext(ssl.PROTOCOL_TLS_CLIENT)
        # Step 1
        ctx.minimum_version = MIN_TLS_VERSION
        ctx.set_ciphers(TLS12_CIPHERS)
        ctx.options |= ssl.OP_NO_RENEGOTIATION
        ctx.load_cert_chain(certfile=identity.cert_path, keyfile=identity.key_path)
        # Step 2
        ctx.load_verify_locations(cafile=identity.ca_path)
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.verify_flags |= ssl.VERIFY_X509_STRICT
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"cannot set up TLS for {identity.instance} on {identity.segment_id} ({type(exc).__name__})",
            ja=f"{identity.instance} の TLS を設定できません（{identity.segment_id}）",
        ) from exc
    # Step 3
    ctx.check_hostname = True
    # Step 4
    ctx.expected_role = expected_role
    ctx.expected_deployment = identity.deployment
    ctx.sslobject_class = PeerCheckingSSLObject
    return ctx


def certificate_serial(der: bytes) -> int:
    """The serial number of a DER certificate."""
    return x509.load_der_x509_certificate(der).serial_number
