"""The uvicorn HTTP protocol that reads the client certificate once per connection and hands it to the app."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, ClassVar

from starlette.types import ASGIApp, Receive, Scope, Send

from yakuba.errors import VerificationError
from yakuba.pki import PeerIdentity, peer_identity_from_der
from yakuba.wire._tls import certificate_serial

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _BaseProtocol
except ImportError:  # pragma: no cover - httptools comes with uvicorn[standard]
    from uvicorn.protocols.http.h11_impl import H11Protocol as _BaseProtocol  # type: ignore[assignment]

__all__ = ["MutualTLSProtocol", "PeerGate", "protocol_for"]

_log = logging.getLogger("yakuba.wire.server")


class PeerGate:
    """Who may open a connection at all, decided once per connection after the TLS handshake.

    1. A verified client certificate must be there (the TLS context requires one; this also fails closed
       if the server was ever started without TLS).
    2. Its SPIFFE id must be readable (stops a certificate of the segment CA that names no service).
    3. It must name our deployment (stops a certificate from another deployment sharing a CA by mistake).
    4. Its serial must not be in the revoked set (stops a revoked service key when no CRL is loaded in the
       TLS context; with a CRL, OpenSSL already refused it in step 1's handshake).
    """

    __slots__ = ("_revoked", "deployment")

    def __init__(self, *, deployment: str, revoked_serials: frozenset[int] = frozenset()) -> None:
        self.deployment = deployment
        self._revoked = revoked_serials

    @property
    def revoked_serials(self) -> frozenset[int]:
        return self._revoked

    def replace_revoked(self, serials: frozenset[int]) -> None:
        """Swap in a new revoked set; applies to every connection opened from now on."""
        self._revoked = serials

    def admit(self, der: bytes | None) -> PeerIdentity:
        """The peer named by certificate DER, or VerificationError; see the class for the steps."""
        # Step 1
        if not der:
            raise VerificationError("the connection carries no client certificate")
        # Step 2
        peer = peer_identity_from_der(der)
        # Step 3
        if peer.deployment != self.deployment:
            raise VerificationError("the client certificate belongs to another deployment")
        # Step 4
        if certificate_serial(der) in self._revoked:
            raise VerificationError("the client certificate is revoked")
        return peer


class _WithPeer:
    """The app, with this connection's TLS facts in every request's scope["extensions"]["tls"]."""

    __slots__ = ("_app", "_tls")

    def __init__(self, app: ASGIApp, tls: dict[str, Any]) -> None:
        self._app = app
        self._tls = tls

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        extensions = scope.setdefault("extensions", {})
        # A copy per request: one request's app code cannot alter what the next one sees.
        extensions["tls"] = dict(self._tls)
        await self._app(scope, receive, send)


class MutualTLSProtocol(_BaseProtocol):
    """uvicorn's HTTP protocol, plus: read and check the client certificate once, when the connection opens.

    The certificate and the parsed PeerIdentity go into every request's scope["extensions"]["tls"] as
    ``client_cert`` (DER bytes) and ``peer``. A connection the PeerGate refuses is closed before any request
    is read.
    """

    peer_gate: ClassVar[PeerGate]

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        try:
            peer = self.peer_gate.admit(der)
        except VerificationError as exc:
            # Addresses are of services, not people; the reason is fixed text.
            _log.warning("refused connection from %s: %s", _address(self.client), exc.text_en)
            transport.close()
            return
        self.app = _WithPeer(
            self.app,
            {"client_cert": der, "peer": peer, "tls_version": ssl_object.version()},
        )


def protocol_for(gate: PeerGate) -> type[MutualTLSProtocol]:
    """A protocol class bound to GATE, to give uvicorn as ``Config(http=...)``."""

    class _BoundProtocol(MutualTLSProtocol):
        peer_gate = gate

    return _BoundProtocol


def _address(client: tuple[str, int] | None) -> str:
    return f"{client[0]}:{client[1]}" if client else "?"
