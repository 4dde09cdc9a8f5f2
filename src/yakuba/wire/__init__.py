"""Wire: mutual TLS between roles, end-to-end sealing, canonical request digests, one-time challenges."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from yakuba.wire._error_responses import log_unexpected
    from yakuba.wire._errors import RequestTooLargeError
    from yakuba.wire._policy import RolePolicy, allow, check_route_policies, peer_identity
    from yakuba.wire._tls import client_ssl_context, server_ssl_context
    from yakuba.wire.challenge import CHALLENGE_BYTES, CHALLENGE_TTL, Challenge, ChallengeStore
    from yakuba.wire.client import IDEMPOTENCY_KEY_HEADER, ServiceClient, client_session
    from yakuba.wire.digest import canonical_json, request_digest
    from yakuba.wire.sealing import (
        MAX_PLAINTEXT_BYTES,
        SealingBinding,
        TransactionKey,
        card_fingerprint,
        open_sealed,
        seal,
    )
    from yakuba.wire.server import Server, build_app, serve

__all__ = [
    "CHALLENGE_BYTES",
    "CHALLENGE_TTL",
    "IDEMPOTENCY_KEY_HEADER",
    "MAX_PLAINTEXT_BYTES",
    "Challenge",
    "ChallengeStore",
    "RequestTooLargeError",
    "RolePolicy",
    "SealingBinding",
    "Server",
    "ServiceClient",
    "TransactionKey",
    "allow",
    "build_app",
    "canonical_json",
    "card_fingerprint",
    "check_route_policies",
    "client_session",
    "client_ssl_context",
    "log_unexpected",
    "open_sealed",
    "peer_identity",
    "request_digest",
    "seal",
    "serve",
    "server_ssl_context",
]

# Loaded on first use, so that importing the sealing or digest recipes (kiosk and issuer logic) does not
# pull in the web framework, the HTTP client and the ORM.
_HOME = {
    "log_unexpected": "_error_responses",
    "RequestTooLargeError": "_errors",
    "RolePolicy": "_policy",
    "allow": "_policy",
    "check_route_policies": "_policy",
    "peer_identity": "_policy",
    "client_ssl_context": "_tls",
    "server_ssl_context": "_tls",
    "CHALLENGE_BYTES": "challenge",
    "CHALLENGE_TTL": "challenge",
    "Challenge": "challenge",
    "ChallengeStore": "challenge",
    "IDEMPOTENCY_KEY_HEADER": "client",
    "ServiceClient": "client",
    "client_session": "client",
    "canonical_json": "digest",
    "request_digest": "digest",
    "MAX_PLAINTEXT_BYTES": "sealing",
    "SealingBinding": "sealing",
    "TransactionKey": "sealing",
    "card_fingerprint": "sealing",
    "open_sealed": "sealing",
    "seal": "sealing",
    "Server": "server",
    "build_app": "server",
    "serve": "server",
}


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'yakuba.wire' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"yakuba.wire.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
