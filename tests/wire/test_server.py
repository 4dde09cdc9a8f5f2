"""The mTLS server: who gets through the handshake, route policies, and the one error body shape."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import io
import json
import logging
import socket
import ssl
import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Annotated

import aiohttp
import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from fastapi import APIRouter, FastAPI

from yakuba.config import Role
from yakuba.errors import AuthorizationError, ConfigError, EligibilityError, UpstreamError
from yakuba.pki import PeerIdentity, ServiceIdentity
from yakuba.wire import Server, ServiceClient, allow, build_app, check_route_policies, client_session, serve
from yakuba.wire.listener import bind_listener
from yakuba.wire.server import MAX_REQUEST_BODY_BYTES

from .wire_support import HQ, KIOSK, OTHER_KIOSK, CertFactory, Hits, cert_der, cert_serial, make_app

IdentityLoader = Callable[..., ServiceIdentity]
KEY = "idem-0123456789abcdef"


@contextlib.asynccontextmanager
async def kiosk_client(identity: ServiceIdentity, server: Server) -> AsyncIterator[ServiceClient]:
    async with client_session(identity, expected_role=Role.STOREHQ) as session:
        yield ServiceClient(session=session, base_url=server.base_url, expected_role=Role.STOREHQ)


def raw_context(ca: Path, identity: ServiceIdentity | None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(ca))
    if identity is not None:
        ctx.load_cert_chain(identity.cert_path, identity.key_path)
    return ctx


async def raw_exchange(port: int, ctx: ssl.SSLContext) -> bytes | BaseException:
    """Handshake, send one request, read to the end: the answer, or the error the client saw."""
    writer = None
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx, server_hostname="localhost")
        writer.write(b"POST /v1/whoami HTTP/1.1\r\nHost: hq\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        return await asyncio.wait_for(reader.read(), 5)
    except (OSError, ssl.SSLError) as exc:
        return exc
    finally:
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError, ssl.SSLError):
                await writer.wait_closed()


async def refused_in_handshake(port: int, ca: Path, identity: ServiceIdentity | None) -> bool:
    """Whether the TLS layer itself refused the client.

    Pinned to TLS 1.2, where the client's handshake waits for the server's Finished, which the server sends
    only after it accepted the client certificate (in TLS 1.3 the client finishes first and learns later).
    """
    ctx = raw_context(ca, identity)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    try:
        _reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx, server_hostname="localhost")
    except (OSError, ssl.SSLError):
        return True
    writer.close()
    with contextlib.suppress(OSError, ssl.SSLError):
        await writer.wait_closed()
    return False


def assert_answered(outcome: bytes | BaseException) -> None:
    assert isinstance(outcome, bytes), outcome
    assert outcome.startswith(b"HTTP/1.1 200"), outcome[:200]


def assert_refused(outcome: bytes | BaseException, hits: Hits) -> None:
    assert hits.count == 0
    if isinstance(outcome, bytes):
        assert b"HTTP/1.1" not in outcome, outcome[:200]


# --- who gets in ---------------------------------------------------------------------------------------


async def test_correct_client_is_accepted_and_the_app_sees_its_identity(
    hq_server: Server, identity: IdentityLoader, hits: Hits
) -> None:
    kiosk = identity(KIOSK)
    async with kiosk_client(kiosk, hq_server) as client:
        answer = await client.post_json("/v1/whoami", {}, idempotency_key=None)
    assert answer["role"] == "kiosk"
    assert answer["instance"] == KIOSK
    assert answer["deployment"] == kiosk.deployment
    assert answer["tls_version"] == "TLSv1.3"
    assert answer["cert_sha256"] == hashlib.sha256(cert_der(kiosk)).hexdigest()
    assert hits.count == 1
    assert hq_server.port > 0


async def test_keep_alive_reuses_one_connection(hq_server: Server, identity: IdentityLoader) -> None:
    async with kiosk_client(identity(KIOSK), hq_server) as client:
        first = await client.post_json("/v1/whoami", {}, idempotency_key=None)
        second = await client.post_json("/v1/whoami", {}, idempotency_key=None)
    assert first["client_port"] == second["client_port"]


async def test_client_without_certificate_is_refused_at_the_handshake(
    hq_server: Server, identity: IdentityLoader, hits: Hits
) -> None:
    outcome = await raw_exchange(hq_server.port, raw_context(identity(HQ).ca_path, None))
    assert_refused(outcome, hits)
    assert await refused_in_handshake(hq_server.port, identity(HQ).ca_path, None)
    assert not await refused_in_handshake(hq_server.port, identity(HQ).ca_path, identity(KIOSK))
    # The same raw client with a certificate gets through: the refusal above is about the certificate.
    accepted = await raw_exchange(hq_server.port, raw_context(identity(HQ).ca_path, identity(KIOSK)))
    assert_answered(accepted)


async def test_certificate_of_another_segment_is_refused(
    hq_server: Server, identity: IdentityLoader, hits: Hits
) -> None:
    center = identity("center-1", "dedicated")  # valid, but issued by the dedicated line's CA
    outcome = await raw_exchange(hq_server.port, raw_context(identity(HQ).ca_path, center))
    assert_refused(outcome, hits)
    assert await refused_in_handshake(hq_server.port, identity(HQ).ca_path, center)


async def test_expired_certificate_is_refused(
    hq_server: Server, identity: IdentityLoader, certs: CertFactory, hits: Hits
) -> None:
    expired = certs.issue(
        name="expired",
        role=Role.KIOSK,
        instance=KIOSK,
        not_after=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
    )
    outcome = await raw_exchange(hq_server.port, raw_context(identity(HQ).ca_path, expired))
    assert_refused(outcome, hits)
    assert await refused_in_handshake(hq_server.port, identity(HQ).ca_path, expired)
    fresh = certs.issue(name="fresh", role=Role.KIOSK, instance=KIOSK)
    accepted = await raw_exchange(hq_server.port, raw_context(identity(HQ).ca_path, fresh))
    assert_answered(accepted)


async def test_certificate_of_another_deployment_is_refused(
    hq_server: Server, identity: IdentityLoader, certs: CertFactory, hits: Hits
) -> None:
    foreign = certs.issue(name="foreign", role=Role.KIOSK, instance=KIOSK, deployment="elsewhere")
    outcome = await raw_exchange(hq_server.port, raw_context(identity(HQ).ca_path, foreign))
    assert_refused(outcome, hits)


async def test_revoked_serial_is_refused_and_the_list_can_change(identity: IdentityLoader) -> None:
    hits = Hits()
    kiosk, other = identity(KIOSK), identity(OTHER_KIOSK)
    server = Server(app=make_app(hits), identity=identity(HQ), revoked_serials=frozenset({cert_serial(kiosk)}))
    async with server:
        ca = identity(HQ).ca_path
        assert_refused(await raw_exchange(server.port, raw_context(ca, kiosk)), hits)
        accepted = await raw_exchange(server.port, raw_context(ca, other))
        assert_answered(accepted)
        server.replace_revoked(frozenset({cert_serial(other)}))
        outcome = await raw_exchange(server.port, raw_context(ca, other))
        assert isinstance(outcome, BaseException) or b"HTTP/1.1" not in outcome
        accepted = await raw_exchange(server.port, raw_context(ca, kiosk))
        assert_answered(accepted)


async def test_revoked_by_crl_is_refused_in_the_handshake(
    identity: IdentityLoader, certs: CertFactory, tmp_path: Path
) -> None:
    kiosk, other = identity(KIOSK), identity(OTHER_KIOSK)
    ca_cert, ca_key = certs.ca("store:midori")
    now = dt.datetime.now(dt.UTC)
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_cert.subject)
        .last_update(now - dt.timedelta(minutes=5))
        .next_update(now + dt.timedelta(days=1))
        .add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(cert_serial(kiosk)).revocation_date(now).build()
        )
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .add_extension(x509.CRLNumber(1), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    crl_path = tmp_path / "store-midori.crl"
    crl_path.write_bytes(crl.public_bytes(serialization.Encoding.PEM))
    hits = Hits()
    async with Server(app=make_app(hits), identity=identity(HQ), crl_path=crl_path) as server:
        ca = identity(HQ).ca_path
        assert_refused(await raw_exchange(server.port, raw_context(ca, kiosk)), hits)
        assert await refused_in_handshake(server.port, ca, kiosk)
        assert not await refused_in_handshake(server.port, ca, other)
        accepted = await raw_exchange(server.port, raw_context(ca, other))
        assert_answered(accepted)


def test_openssl_s_client_without_certificate_sees_a_certificate_request(identity: IdentityLoader) -> None:
    hq, kiosk = identity(HQ), identity(KIOSK)

    def s_client(port: int, *extra: str) -> str:
        result = subprocess.run(
            ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-CAfile", str(hq.ca_path), "-ign_eof", *extra],
            input=b"POST /v1/whoami HTTP/1.1\r\nHost: hq\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            capture_output=True,
            timeout=20,
            check=False,
        )
        return result.stdout.decode(errors="replace") + result.stderr.decode(errors="replace")

    with Server(app=make_app(), identity=hq).running_in_thread() as server:
        port = server.port
        anonymous = s_client(server.port)
        with_cert = s_client(server.port, "-cert", str(kiosk.cert_path), "-key", str(kiosk.key_path))
    # A CertificateRequest arrived (OpenSSL prints the signature algorithms the server asked the client
    # certificate to use), and without a certificate no HTTP answer came back. Python's TLS cannot send CA
    # names, and asyncio/uvloop drop the pending "certificate required" alert when they abort the handshake.
    assert "Requested Signature Algorithms" in anonymous
    assert "HTTP/1.1" not in anonymous
    assert "HTTP/1.1 200" in with_cert
    with pytest.raises(OSError):  # noqa: PT011 - the server is gone: any refusal to connect will do
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


async def test_s_client_control_a_server_without_client_auth_sends_no_request(identity: IdentityLoader) -> None:
    """Control for the test above: the marker it looks for is absent when no client certificate is asked."""
    hq = identity(HQ)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(hq.cert_path, hq.key_path)

    async def answer(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=ctx)
    port = server.sockets[0].getsockname()[1]
    try:
        process = await asyncio.create_subprocess_exec(
            "openssl",
            "s_client",
            "-connect",
            f"127.0.0.1:{port}",
            "-CAfile",
            str(hq.ca_path),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await asyncio.wait_for(process.communicate(b""), 20)
    finally:
        server.close()
        await server.wait_closed()
    assert "Server certificate" in out.decode()
    assert "Requested Signature Algorithms" not in out.decode()


# --- route policies and error bodies ---------------------------------------------------------------------


async def test_wrong_role_gets_403_with_the_standard_body(
    hq_server: Server, identity: IdentityLoader, hits: Hits
) -> None:
    async with client_session(identity(KIOSK), expected_role=Role.STOREHQ) as session:
        async with session.post(hq_server.base_url + "/v1/hq-only", json={}) as response:
            body = await response.json()
            assert response.status == 403
        client = ServiceClient(session=session, base_url=hq_server.base_url, expected_role=Role.STOREHQ)
        with pytest.raises(AuthorizationError) as caught:
            await client.post_json("/v1/hq-only", {}, idempotency_key=None)
    assert set(body) == {"error", "message", "message_ja"}
    assert body["error"] == "forbidden"
    assert body["message_ja"] == caught.value.text_ja
    assert hits.count == 0


def test_route_without_policy_fails_start_up_naming_it() -> None:
    router = APIRouter(prefix="/v1")

    @router.post("/guarded", dependencies=[allow(Role.KIOSK)])
    async def guarded() -> dict[str, str]:
        return {}

    @router.post("/open")
    async def open_route() -> dict[str, str]:
        return {}

    with pytest.raises(ConfigError, match=r"POST /v1/open") as caught:
        build_app(title="t", routers=[router])
    assert "/v1/guarded" not in caught.value.text_en


def test_policy_may_be_declared_on_router_include_or_parameter() -> None:
    inner = APIRouter()

    @inner.post("/a")
    async def a() -> dict[str, str]:
        return {}

    on_router = APIRouter(dependencies=[allow(Role.CENTER)])

    @on_router.post("/b")
    async def b() -> dict[str, str]:
        return {}

    by_param = APIRouter()

    @by_param.post("/c")
    async def c(peer: Annotated[PeerIdentity, allow(Role.KIOSK)]) -> dict[str, str]:
        return {"instance": peer.instance}

    outer = APIRouter(prefix="/v1")
    outer.include_router(inner, dependencies=[allow(Role.STOREHQ)])
    app = build_app(title="t", routers=[outer, on_router, by_param])
    paths = {getattr(r, "path", None) for r in app.routes}
    assert "/openapi.json" in paths  # the documentation routes are exempt, explicitly


async def test_route_added_after_build_fails_server_start(identity: IdentityLoader) -> None:
    app = make_app()

    @app.get("/late")
    async def late() -> dict[str, str]:
        return {}

    with pytest.raises(ConfigError, match="GET /late"):
        check_route_policies(app)
    server = Server(app=app, identity=identity(HQ))
    with pytest.raises(ConfigError, match="GET /late"):
        await server.start()


async def test_failing_lifespan_fails_start_not_the_process(identity: IdentityLoader) -> None:
    @contextlib.asynccontextmanager
    async def broken(_app: FastAPI) -> AsyncIterator[None]:
        raise RuntimeError("database unreachable")
        yield

    app = build_app(title="t", routers=[], lifespan=broken)
    with pytest.raises(ConfigError, match="start-up"):
        await Server(app=app, identity=identity(HQ)).start()


async def test_app_served_without_mutual_tls_refuses_every_caller() -> None:
    transport = httpx.ASGITransport(app=make_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post("/v1/whoami")
    assert response.status_code == 401
    assert response.json()["error"] == "authentication_failed"


async def test_unexpected_error_is_a_generic_500_with_a_trace_id(
    hq_server: Server, identity: IdentityLoader, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="yakuba.wire.server")
    async with client_session(identity(KIOSK), expected_role=Role.STOREHQ) as session:
        async with session.post(hq_server.base_url + "/v1/boom", json={}) as response:
            status, text = response.status, await response.text()
        client = ServiceClient(session=session, base_url=hq_server.base_url, expected_role=Role.STOREHQ)
        with pytest.raises(UpstreamError):
            await client.post_json("/v1/boom", {}, idempotency_key=None)
    assert status == 500
    body = json.loads(text)
    assert body["error"] == "internal_error"
    assert len(body["trace_id"]) == 16
    for secret in ("山田", "1980", "Traceback", "RuntimeError"):
        assert secret not in text
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert body["trace_id"] in logged
    assert "RuntimeError" in logged
    assert "山田" not in logged
    assert "1980" not in logged


async def test_invalid_request_names_fields_but_never_echoes_values(
    hq_server: Server, identity: IdentityLoader
) -> None:
    async with client_session(identity(KIOSK), expected_role=Role.STOREHQ) as session:
        sent = {"transaction_id": "山田太郎-secret", "copies": "many"}
        async with session.post(hq_server.base_url + "/v1/echo", json=sent) as response:
            status, body = response.status, await response.json()
    assert status == 400
    assert body["error"] == "invalid_input"
    assert "copies" in body["message"]
    assert "山田" not in str(body)
    assert "many" not in str(body)


async def test_domain_error_travels_with_its_code_and_messages(hq_server: Server, identity: IdentityLoader) -> None:
    async with kiosk_client(identity(KIOSK), hq_server) as client:
        with pytest.raises(EligibilityError) as caught:
            await client.post_json("/v1/ineligible", {}, idempotency_key=None)
    assert caught.value.text_ja == EligibilityError.message_ja
    assert caught.value.http_status == 403


async def test_unknown_route_and_oversized_body_use_the_standard_body(
    hq_server: Server, identity: IdentityLoader
) -> None:
    async with client_session(identity(KIOSK), expected_role=Role.STOREHQ) as session:
        async with session.post(hq_server.base_url + "/v1/nowhere", json={}) as response:
            assert response.status == 404
            assert (await response.json())["error"] == "not_found"
        big = io.BytesIO(b'{"x":"' + b"a" * MAX_REQUEST_BODY_BYTES + b'"}')
        headers = {"Content-Type": "application/json"}
        async with session.post(hq_server.base_url + "/v1/echo", data=big, headers=headers) as response:
            assert response.status == 413
            assert (await response.json())["error"] == "request_too_large"


async def test_server_stops_cleanly_and_frees_its_port(identity: IdentityLoader) -> None:
    server = Server(app=make_app(), identity=identity(HQ))
    await server.start()
    port = server.port
    await server.stop()
    with pytest.raises(RuntimeError):
        _ = server.port
    with pytest.raises(OSError):  # noqa: PT011
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    await server.stop()  # a second stop is harmless


async def test_aiohttp_session_without_certificate_cannot_call(hq_server: Server, identity: IdentityLoader) -> None:
    ctx = raw_context(identity(HQ).ca_path, None)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ctx)) as session:
        with pytest.raises(aiohttp.ClientError):
            async with session.post(hq_server.base_url + "/v1/whoami", json={}) as response:
                await response.read()


async def test_streamed_oversized_body_is_refused_with_the_standard_body(
    hq_server: Server, identity: IdentityLoader
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"transaction_id":"'
        for _ in range(MAX_REQUEST_BODY_BYTES // 65536 + 2):
            yield b"a" * 65536
        yield b'","copies":1}'

    async with client_session(identity(KIOSK), expected_role=Role.STOREHQ) as session:
        headers = {"Content-Type": "application/json"}
        async with session.post(hq_server.base_url + "/v1/echo", data=chunks(), headers=headers) as response:
            assert response.status == 413
            assert (await response.json())["error"] == "request_too_large"


async def test_serve_runs_until_cancelled(identity: IdentityLoader) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    task = asyncio.create_task(serve(make_app(), identity(HQ), host="127.0.0.1", port=port))
    try:
        async with client_session(identity(KIOSK), expected_role=Role.STOREHQ) as session:
            client = ServiceClient(session=session, base_url=f"https://127.0.0.1:{port}", expected_role=Role.STOREHQ)
            for _ in range(100):
                try:
                    answer = await client.post_json("/v1/whoami", {}, idempotency_key=None)
                    break
                except UpstreamError:
                    await asyncio.sleep(0.05)
            else:
                pytest.fail("serve() never answered")
        assert answer["instance"] == KIOSK
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    with pytest.raises(OSError):  # noqa: PT011
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_listener_disables_nagle_so_small_answers_are_not_delayed() -> None:
    """Without TCP_NODELAY on the listener, Nagle's algorithm and delayed ACKs held every answer ~40 ms."""
    sock = bind_listener("127.0.0.1", 0)
    try:
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        sock.close()
