"""The inter-service client: an mTLS aiohttp session per segment, and JSON calls with timeouts and safe retries."""

from __future__ import annotations

import asyncio
import importlib
import json
import re
from collections.abc import Mapping
from typing import Any, TypeVar

import aiohttp
import pydantic

from yakuba.config import Role
from yakuba.errors import ConfigError, UpstreamError, UpstreamTimeout, ValidationError, YakubaError
from yakuba.pki import ServiceIdentity
from yakuba.wire._errors import RequestTooLargeError  # noqa: F401 - loaded so its code maps back
from yakuba.wire._tls import client_ssl_context

__all__ = [
    "CONNECT_TIMEOUT",
    "IDEMPOTENCY_KEY_HEADER",
    "KEEPALIVE_TIMEOUT",
    "MAX_ATTEMPTS",
    "MAX_RESPONSE_BYTES",
    "POOL_LIMIT",
    "POOL_LIMIT_PER_HOST",
    "RETRY_BACKOFF",
    "TOTAL_TIMEOUT",
    "ServiceClient",
    "client_session",
    "read_limited",
    "settle_transports",
]

CONNECT_TIMEOUT = 3.0
"""Seconds for TCP connect plus the TLS handshake; neighbours are on the same LAN, line or LGWAN, so a
peer that cannot finish a handshake in 3 s is down, and the kiosk should say so rather than hang."""

TOTAL_TIMEOUT = 20.0
"""Seconds for one call, all downstream hops included (render and sign take tens of ms; live registry
reads may take seconds); a person is waiting at the kiosk and will be told the transaction was cancelled."""

KEEPALIVE_TIMEOUT = 60.0
"""Seconds an idle pooled connection is kept; below the server's 75 s, so we close first (no request is
ever written into a connection the server is closing)."""

POOL_LIMIT = 100
"""Connections open at once from one process; beyond it, calls queue (within TOTAL_TIMEOUT)."""

POOL_LIMIT_PER_HOST = 64
"""Connections to one neighbour at once, so one slow neighbour cannot take the whole pool."""

MAX_ATTEMPTS = 2
"""Tries for a call with an idempotency key when the connection fails: one retry covers the common case
of a pooled connection closed under us; more would only pile load on a neighbour that is down."""

RETRY_BACKOFF = 0.05
"""Seconds before the retry: enough to avoid a hot loop, short against TOTAL_TIMEOUT."""

MAX_RESPONSE_BYTES = 32 * 1024 * 1024
"""A sealed document of at most 20 MiB, base64 in JSON (x4/3), plus the rest of the answer; anything
larger is refused rather than buffered."""

_Answer = TypeVar("_Answer", bound=pydantic.BaseModel)

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
"""The header carrying the caller's key; the server must answer a repeated key with the first answer."""

_IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9._:-]{16,128}")


class _MutualTLSConnector(aiohttp.TCPConnector):
    """A connector that remembers which server role its TLS context insists on."""

    def __init__(self, *, expected_role: Role, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.expected_role = expected_role


def client_session(
    identity: ServiceIdentity,
    *,
    expected_role: Role,
    connect_timeout: float = CONNECT_TIMEOUT,
    total_timeout: float = TOTAL_TIMEOUT,
) -> aiohttp.ClientSession:
    """A pooled mTLS session from IDENTITY to the servers of EXPECTED_ROLE on IDENTITY's segment.

    The TLS context is built once here and shared by every connection; it trusts only the segment CA and,
    during the handshake, refuses a server whose certificate names another role (see _tls). Call it inside
    the running event loop and close the session (``async with`` or ``await session.close()``).
    """
    connector = _MutualTLSConnector(
        expected_role=expected_role,
        ssl=client_ssl_context(identity, expected_role=expected_role),
        limit=POOL_LIMIT,
        limit_per_host=POOL_LIMIT_PER_HOST,
        keepalive_timeout=KEEPALIVE_TIMEOUT,
    )
    return aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=total_timeout, sock_connect=connect_timeout),
        trust_env=False,
        auto_decompress=False,
        headers={"Accept": "application/json"},
    )


class ServiceClient:
    """Calls one neighbour at BASE_URL over SESSION (the transport seam: the caller owns and closes it).

    Retries never duplicate an issuance: a call is retried only when it carries an idempotency key, and the
    server must honour ``Idempotency-Key`` (answer a repeated key with the stored first answer, not by doing
    the work again), because a connection that fails after the request was sent may or may not have reached
    the server's handler.
    """

    __slots__ = ("_base_url", "_session")

    def __init__(self, *, session: aiohttp.ClientSession, base_url: str, expected_role: Role) -> None:
        connector = session.connector
        if not isinstance(connector, _MutualTLSConnector) or connector.expected_role != expected_role:
            raise ConfigError(f"the session was not made by client_session(..., expected_role={expected_role.value})")
        if not base_url.startswith("https://"):
            raise ConfigError("a neighbour is only called over https")
        self._session = session
        self._base_url = base_url.rstrip("/")

    async def call(
        self, path: str, message: pydantic.BaseModel | None, answer: type[_Answer], *, idempotency_key: str | None
    ) -> _Answer:
        """POST MESSAGE (a schema of yakuba.wire.messages; None for an empty body) and return the ANSWER schema.

        An answer that does not fit its schema is UpstreamError naming the schema only: the body may carry a
        sealed envelope and is never put in an error or a log.
        """
        body = {} if message is None else message.model_dump(mode="json")
        document = await self.post_json(path, body, idempotency_key=idempotency_key)
        try:
            return answer.model_validate(document)
        except pydantic.ValidationError as exc:
            raise UpstreamError(f"{self._base_url} answered something that is not a {answer.__name__}") from exc

    async def post_json(self, path: str, body: Mapping[str, Any], *, idempotency_key: str | None) -> dict[str, Any]:
        """POST BODY as JSON to PATH and return the JSON object answered.

        Errors: the neighbour's error body comes back as the YakubaError of its code (UpstreamError when
        the code is unknown or internal); no answer in time is UpstreamTimeout; a failed connection or TLS
        handshake is UpstreamError. With IDEMPOTENCY_KEY a failed connection is retried once.
        """
        if not path.startswith("/"):
            raise ValidationError("path must start with /")
        headers = {"Content-Type": "application/json"}
        attempts = 1
        if idempotency_key is not None:
            if not _IDEMPOTENCY_KEY.fullmatch(idempotency_key):
                raise ValidationError("idempotency key must be 16-128 characters of [A-Za-z0-9._:-]")
            headers[IDEMPOTENCY_KEY_HEADER] = idempotency_key
            attempts = MAX_ATTEMPTS
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
        url = self._base_url + path
        for attempt in range(1, attempts + 1):
            try:
                async with self._session.post(url, data=data, headers=headers) as response:
                    payload = await read_limited(response)
                return _interpret(response.status, payload, self._base_url)
            except TimeoutError as exc:
                raise UpstreamTimeout(f"no answer from {self._base_url} in time") from exc
            except aiohttp.ClientSSLError as exc:
                # Identity or trust problems do not heal on retry.
                raise UpstreamError(f"TLS with {self._base_url} failed ({type(exc).__name__})") from exc
            except aiohttp.ClientConnectionError as exc:
                if attempt == attempts:
                    raise UpstreamError(f"connection to {self._base_url} failed ({type(exc).__name__})") from exc
                await asyncio.sleep(RETRY_BACKOFF)
            except aiohttp.ClientError as exc:
                raise UpstreamError(f"bad answer from {self._base_url} ({type(exc).__name__})") from exc
        raise AssertionError("unreachable: the last attempt returns or raises")  # pragma: no cover


async def read_limited(response: aiohttp.ClientResponse, *, limit: int = MAX_RESPONSE_BYTES) -> bytes:
    """The whole body of RESPONSE, refused (UpstreamError) as soon as it is known to exceed LIMIT bytes.

    Reads to the end of the body: a single ``content.read(n)`` returns what has arrived so far, which for an
    answer of a few megabytes (a national CRL) is only its first part."""
    if response.content_length is not None and response.content_length > limit:
        raise UpstreamError("the answer is larger than allowed")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_any():
        size += len(chunk)
        if size > limit:
            raise UpstreamError("the answer is larger than allowed")
        chunks.append(chunk)
    return b"".join(chunks)


def _interpret(status: int, payload: bytes, origin: str) -> dict[str, Any]:
    try:
        document = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise UpstreamError(f"{origin} answered {status} without JSON") from exc
    if not isinstance(document, dict):
        raise UpstreamError(f"{origin} answered {status} with JSON that is not an object")
    if 200 <= status < 300:
        return document
    raise _error_from_body(status, document, origin)


def _error_from_body(status: int, body: dict[str, Any], origin: str) -> YakubaError:
    """The YakubaError a neighbour's error body stands for; UpstreamError when unknown or internal."""
    code, en, ja = body.get("error"), body.get("message"), body.get("message_ja")
    cls = _error_class(code) if isinstance(code, str) else None
    if cls is None or not isinstance(en, str) or not isinstance(ja, str):
        return UpstreamError(f"{origin} answered {status} ({code if isinstance(code, str) else 'no code'})")
    return cls(en, ja=ja)


def _load_role_errors() -> None:
    """Import every role's error module, so a code any neighbour sends maps back to its class.

    Without this, a kiosk process (which never imports the issuer's modules) turned "card not registered"
    from the issuer into a network failure. Imported on first use: the role packages import this module.
    """
    for role in Role:
        importlib.import_module(f"yakuba.{role.value}.errors")


def _error_class(code: str) -> type[YakubaError] | None:
    # The neighbour failing internally is, for us, an upstream failure.
    if code == YakubaError.code:
        return None
    _load_role_errors()
    pending: list[type[YakubaError]] = [YakubaError]
    while pending:
        cls = pending.pop()
        # Only errors built from (message, ja=...) can be rebuilt from a body.
        if cls.code == code and cls.__init__ is YakubaError.__init__:
            return cls
        pending.extend(cls.__subclasses__())
    return None


SETTLE_TIMEOUT = 5.0
"""Seconds settle_transports waits for connections still closing before it aborts them."""


def _open_transports(loop: asyncio.AbstractEventLoop) -> list[asyncio.BaseTransport]:
    # The selector loop keeps every socket transport it serves until its connection is lost; asyncio has no
    # public list of them. Another loop yields nothing here and settle_transports only waits a little.
    found: Mapping[int, asyncio.BaseTransport] = getattr(loop, "_transports", None) or {}
    return [transport for transport in list(found.values()) if _socket_open(transport)]


def _socket_open(transport: asyncio.BaseTransport | None) -> bool:
    sock = None if transport is None else transport.get_extra_info("socket")
    return sock is not None and sock.fileno() != -1


async def settle_transports(timeout_s: float = SETTLE_TIMEOUT) -> int:
    """Let connections still closing finish, then abort what is left; how many were aborted.

    A connection aiohttp drops in the middle of a run (an answer cut, a stalled link) closes its TLS layer
    gracefully: it waits for the peer's close_notify, up to asyncio's 30 s. A loop that ends meanwhile
    (``asyncio.run`` returning) leaves the socket open until the garbage collector finds it. Call this last
    in a loop's main coroutine, after every session is closed: whatever is still open then is aborted, so
    only in a loop of its own (never in a server's loop, whose connections it would cut).
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while (left := _open_transports(loop)) and loop.time() < deadline:
        await asyncio.sleep(0.02)
    for transport in left:
        if isinstance(transport, asyncio.Transport):
            transport.abort()
        else:
            transport.close()
    if left:
        await asyncio.sleep(0)  # abort() closes on the next turn of the loop
    return len(left)
