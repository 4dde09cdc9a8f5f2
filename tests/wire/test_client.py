"""The inter-service client: it checks who the server is, maps errors back, times out, retries only when safe."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import aiohttp
import pytest

from yakuba.config import Role
from yakuba.errors import (
    ConfigError,
    NotFoundError,
    ServiceClosedError,
    UpstreamError,
    UpstreamTimeout,
    ValidationError,
)
from yakuba.pki import ServiceIdentity
from yakuba.wire import (
    IDEMPOTENCY_KEY_HEADER,
    RequestTooLargeError,
    Server,
    ServiceClient,
    client_session,
    server_ssl_context,
)
from yakuba.wire.client import MAX_RESPONSE_BYTES, settle_transports

from .wire_support import HQ, KIOSK, OTHER_KIOSK, CertFactory, Hits, make_app

IdentityLoader = Callable[..., ServiceIdentity]
KEY = "idem-0123456789abcdef"

Answer = tuple[int, bytes, dict[str, str]] | None
"""Status, body and extra headers; or Drop."""

Drop = None
"""A scripted answer: read the request, then close the connection without answering."""


@dataclass
class ScriptedServer:
    """A bare HTTP/1.1 server over the real mTLS context, answering from a script, recording requests."""

    answers: list[Answer]
    requests: list[dict[str, str]] = field(default_factory=list)
    port: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode().split("\r\n")
                headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
                await reader.readexactly(int(headers.get("content-length", "0")))
                self.requests.append(headers)
                answer = self.answers.pop(0) if self.answers else (200, b"{}", {})
                if answer is Drop:
                    break
                status, body, extra = answer
                more = "".join(f"{k}: {v}\r\n" for k, v in extra.items())
                length = extra.get("Content-Length")
                writer.write(
                    f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n".encode()
                    + (b"" if length else f"Content-Length: {len(body)}\r\n".encode())
                    + more.encode()
                    + b"\r\n"
                    + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@contextlib.asynccontextmanager
async def scripted(
    identity: ServiceIdentity, *answers: tuple[int, bytes, dict[str, str]] | None
) -> AsyncIterator[ScriptedServer]:
    script = ScriptedServer(answers=list(answers))
    server = await asyncio.start_server(script.handle, "127.0.0.1", 0, ssl=server_ssl_context(identity))
    script.port = server.sockets[0].getsockname()[1]
    try:
        yield script
    finally:
        server.close()
        await server.wait_closed()


@contextlib.asynccontextmanager
async def hq_client(identity: IdentityLoader, port: int, **options: float) -> AsyncIterator[ServiceClient]:
    async with client_session(identity(KIOSK), expected_role=Role.STOREHQ, **options) as session:
        yield ServiceClient(session=session, base_url=f"https://127.0.0.1:{port}", expected_role=Role.STOREHQ)


# --- who the server is --------------------------------------------------------------------------------------


async def test_server_of_the_wrong_role_is_refused_before_the_request_is_sent(identity: IdentityLoader) -> None:
    hits = Hits()
    # Another kiosk's certificate is valid on the segment and allowed to serve; it is not a store HQ.
    async with Server(app=make_app(hits), identity=identity(OTHER_KIOSK)) as impostor:
        async with hq_client(identity, impostor.port) as client:
            with pytest.raises(UpstreamError) as caught:
                await client.post_json("/v1/whoami", {}, idempotency_key=KEY)
        assert isinstance(caught.value.__cause__, aiohttp.ClientSSLError)
        assert hits.count == 0
        # Control: the same server is fine for a client that expects a kiosk there.
        async with client_session(identity(KIOSK), expected_role=Role.KIOSK) as session:
            client = ServiceClient(session=session, base_url=impostor.base_url, expected_role=Role.KIOSK)
            assert (await client.post_json("/v1/whoami", {}, idempotency_key=None))["instance"] == KIOSK
        assert hits.count == 1


async def test_server_certificate_for_another_host_is_refused(identity: IdentityLoader, certs: CertFactory) -> None:
    elsewhere = certs.issue(name="hq-elsewhere", role=Role.STOREHQ, instance=HQ, ip=None, dns="hq.elsewhere.example")
    hits = Hits()
    async with Server(app=make_app(hits), identity=elsewhere) as server, hq_client(identity, server.port) as client:
        with pytest.raises(UpstreamError):
            await client.post_json("/v1/whoami", {}, idempotency_key=None)
    assert hits.count == 0


async def test_server_of_another_segment_is_refused(identity: IdentityLoader) -> None:
    center = identity("center-1", "dedicated")
    async with scripted(center) as server, hq_client(identity, server.port) as client:
        with pytest.raises(UpstreamError):
            await client.post_json("/v1/whoami", {}, idempotency_key=None)
        assert server.requests == []


async def test_service_client_checks_its_session(identity: IdentityLoader) -> None:
    async with aiohttp.ClientSession() as plain:
        with pytest.raises(ConfigError):
            ServiceClient(session=plain, base_url="https://127.0.0.1:1", expected_role=Role.STOREHQ)
    async with client_session(identity(KIOSK), expected_role=Role.STOREHQ) as session:
        with pytest.raises(ConfigError):
            ServiceClient(session=session, base_url="https://127.0.0.1:1", expected_role=Role.CENTER)
        with pytest.raises(ConfigError):
            ServiceClient(session=session, base_url="http://127.0.0.1:1", expected_role=Role.STOREHQ)


# --- errors, timeouts, retries ----------------------------------------------------------------------------


async def test_timeout_is_upstream_timeout(hq_server: Server, identity: IdentityLoader) -> None:
    async with hq_client(identity, hq_server.port, total_timeout=0.3) as client:
        with pytest.raises(UpstreamTimeout):
            await client.post_json("/v1/slow", {}, idempotency_key=KEY)


async def test_nobody_listening_is_upstream_error(identity: IdentityLoader) -> None:
    async with scripted(identity(HQ)) as server:
        port = server.port
    async with hq_client(identity, port) as client:
        with pytest.raises(UpstreamError) as caught:
            await client.post_json("/v1/whoami", {}, idempotency_key=KEY)
    assert not isinstance(caught.value, UpstreamTimeout)
    assert isinstance(caught.value.__cause__, aiohttp.ClientConnectionError)


async def test_keyed_request_is_retried_once_after_a_dropped_connection(identity: IdentityLoader) -> None:
    async with scripted(identity(HQ), Drop, (200, b'{"done":true}', {})) as server:
        async with hq_client(identity, server.port) as client:
            answer = await client.post_json("/v1/issue", {"n": 1}, idempotency_key=KEY)
        assert answer == {"done": True}
        assert [r[IDEMPOTENCY_KEY_HEADER.lower()] for r in server.requests] == [KEY, KEY]


async def test_unkeyed_request_is_never_retried(identity: IdentityLoader) -> None:
    async with scripted(identity(HQ), Drop, (200, b'{"done":true}', {})) as server:
        async with hq_client(identity, server.port) as client:
            with pytest.raises(UpstreamError):
                await client.post_json("/v1/issue", {"n": 1}, idempotency_key=None)
        assert len(server.requests) == 1
        assert IDEMPOTENCY_KEY_HEADER.lower() not in server.requests[0]


async def test_keyed_request_gives_up_after_the_retry(identity: IdentityLoader) -> None:
    async with scripted(identity(HQ), Drop, Drop, (200, b"{}", {})) as server:
        async with hq_client(identity, server.port) as client:
            with pytest.raises(UpstreamError):
                await client.post_json("/v1/issue", {}, idempotency_key=KEY)
        assert len(server.requests) == 2


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (503, {"error": "service_closed", "message": "closed", "message_ja": "時間外"}, ServiceClosedError),
        (404, {"error": "not_found", "message": "no", "message_ja": "なし"}, NotFoundError),
        (413, {"error": "request_too_large", "message": "big", "message_ja": "大"}, RequestTooLargeError),
        (500, {"error": "internal_error", "message": "x", "message_ja": "x"}, UpstreamError),
        (418, {"error": "no_such_code", "message": "x", "message_ja": "x"}, UpstreamError),
        (400, {"error": "wrong_pin", "message": "x", "message_ja": "x"}, UpstreamError),
        (400, {"unexpected": "shape"}, UpstreamError),
    ],
)
async def test_error_bodies_map_back_to_the_error_tree(
    identity: IdentityLoader, status: int, body: dict[str, str], expected: type[Exception]
) -> None:
    answer = (status, json.dumps(body).encode(), {})
    async with scripted(identity(HQ), answer) as server, hq_client(identity, server.port) as client:
        with pytest.raises(expected) as caught:
            await client.post_json("/v1/x", {}, idempotency_key=None)
    assert type(caught.value) is expected
    if expected is not UpstreamError:
        assert caught.value.text_ja == body["message_ja"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "answer",
    [
        (200, b"not json", {}),
        (200, b"[1, 2]", {}),
        (200, b"", {"Content-Length": str(MAX_RESPONSE_BYTES + 1)}),
    ],
    ids=["not-json", "not-an-object", "too-large"],
)
async def test_malformed_answers_are_upstream_errors(
    identity: IdentityLoader, answer: tuple[int, bytes, dict[str, str]]
) -> None:
    async with scripted(identity(HQ), answer) as server, hq_client(identity, server.port) as client:
        with pytest.raises(UpstreamError):
            await client.post_json("/v1/x", {}, idempotency_key=None)


async def test_bad_arguments_are_refused_before_sending(hq_server: Server, identity: IdentityLoader) -> None:
    async with hq_client(identity, hq_server.port) as client:
        with pytest.raises(ValidationError):
            await client.post_json("/v1/whoami", {}, idempotency_key="short")
        with pytest.raises(ValidationError):
            await client.post_json("v1/whoami", {}, idempotency_key=None)


def test_identity_checks_hold_under_uvloop(identity: IdentityLoader) -> None:
    """Role servers run on uvloop: the client's handshake check and the server's connection hook must work there."""
    import uvloop

    async def scenario() -> tuple[str, int]:
        hits = Hits()
        async with Server(app=make_app(hits), identity=identity(OTHER_KIOSK)) as impostor:
            async with hq_client(identity, impostor.port) as client:
                try:
                    await client.post_json("/v1/whoami", {}, idempotency_key=None)
                except UpstreamError as exc:
                    outcome = type(exc.__cause__).__name__
                else:
                    outcome = "accepted"
            async with client_session(identity(KIOSK), expected_role=Role.KIOSK) as session:
                client = ServiceClient(session=session, base_url=impostor.base_url, expected_role=Role.KIOSK)
                answer = await client.post_json("/v1/whoami", {}, idempotency_key=None)
                assert answer["instance"] == KIOSK
        assert isinstance(asyncio.get_running_loop(), uvloop.Loop)
        return outcome, hits.count

    outcome, count = uvloop.run(scenario())
    assert outcome == "ClientConnectorCertificateError"
    assert count == 1


async def test_call_returns_the_answer_schema_and_refuses_an_answer_that_does_not_fit(
    hq_server: Server, identity: IdentityLoader
) -> None:
    from pydantic import BaseModel, ConfigDict

    class Whoami(BaseModel):
        model_config = ConfigDict(extra="allow")
        role: str

    class Strict(BaseModel):
        model_config = ConfigDict(extra="forbid")
        challenge: str

    async with hq_client(identity, hq_server.port) as client:
        answer = await client.call("/v1/whoami", None, Whoami, idempotency_key=None)
        assert answer.role == "kiosk"
        with pytest.raises(UpstreamError, match="not a Strict"):
            await client.call("/v1/whoami", None, Strict, idempotency_key=None)


def test_an_error_code_from_another_role_maps_back_in_a_process_that_never_imported_that_role() -> None:
    """A kiosk process never imports the issuer's modules; "card not registered" must not read as a network failure."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from yakuba.wire.client import _error_from_body\n"
        "assert 'yakuba.issuer.errors' not in sys.modules\n"
        "body = {'error': 'card_not_registered', 'message': 'not registered', 'message_ja': '未登録'}\n"
        "print(type(_error_from_body(404, body, 'https://issuer')).__name__)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "CardNotRegisteredError"


async def _connected_to_a_silent_peer() -> tuple[asyncio.Transport, asyncio.StreamWriter]:
    """A connection from this loop to a server that accepts it and never says a word (a peer that never
    answers, not even a close_notify); our end, and the peer's end (also in this loop)."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    transport, _ = await asyncio.get_running_loop().create_connection(asyncio.Protocol, "127.0.0.1", port)
    server.close()
    while not held:
        await asyncio.sleep(0.01)
    return transport, held[0]


async def test_settle_transports_aborts_a_connection_the_peer_never_closes() -> None:
    transport, peer = await _connected_to_a_silent_peer()
    # Both ends live in this loop: our connection and the one the silent server accepted.
    assert await settle_transports(timeout_s=0.2) == 2
    for end in (transport, peer.transport):
        assert end.is_closing()
        assert end.get_extra_info("socket").fileno() == -1  # the socket itself is closed, not left to the GC


async def test_settle_transports_waits_for_a_connection_its_peer_closes() -> None:
    transport, peer = await _connected_to_a_silent_peer()

    async def close_later() -> None:
        await asyncio.sleep(0.1)
        peer.close()  # the peer goes: our side sees the end of the stream and closes by itself

    closer = asyncio.create_task(close_later())
    transport.close()
    assert await settle_transports(timeout_s=5) == 0
    await closer
    assert transport.is_closing()
