"""Serving a role's ASGI app over mutual TLS: app factory, route checks, a server that reports its port and stops."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn
from fastapi import APIRouter, FastAPI
from starlette.types import ASGIApp, Lifespan

from yakuba.errors import ConfigError
from yakuba.pki import ServiceIdentity
from yakuba.wire._error_responses import install_error_handlers
from yakuba.wire._errors import MAX_REQUEST_BODY_BYTES, RequestTooLargeError
from yakuba.wire._policy import check_route_policies
from yakuba.wire._protocol import PeerGate, protocol_for
from yakuba.wire._tls import server_ssl_context
from yakuba.wire.listener import STARTUP_TIMEOUT, Listener, bind_listener

__all__ = [
    "GRACEFUL_SHUTDOWN_TIMEOUT",
    "MAX_CONCURRENT_REQUESTS",
    "MAX_REQUEST_BODY_BYTES",
    "SERVER_KEEPALIVE_TIMEOUT",
    "STARTUP_TIMEOUT",
    "RequestTooLargeError",
    "Server",
    "build_app",
    "serve",
]

_log = logging.getLogger("yakuba.wire.server")

SERVER_KEEPALIVE_TIMEOUT = 75
"""Seconds an idle connection stays open; longer than the client's pool keep-alive (60 s), so the client
always drops an idle connection first and never sends a request into one the server is closing."""

MAX_CONCURRENT_REQUESTS = 1000
"""Above this many open connections or running requests, answer 503 rather than fall over."""

GRACEFUL_SHUTDOWN_TIMEOUT = 10
"""Seconds running requests get to finish on shutdown; an issuance in flight takes well under one."""


def build_app(
    *,
    title: str,
    routers: Sequence[APIRouter],
    lifespan: Lifespan[FastAPI] | None = None,
    version: str = "1",
) -> FastAPI:
    """A role's FastAPI app: its routers, the standard error bodies, a request body limit, and a check that
    every route declares who may call it (ConfigError naming the routes that do not)."""
    app = FastAPI(title=title, version=version, lifespan=lifespan)
    install_error_handlers(app)
    for router in routers:
        app.include_router(router)
    check_route_policies(app)
    return app


class Server:
    """One role instance listening with mutual TLS on HOST:PORT (PORT 0 picks a free port; see `port`).

    Start it in the running event loop (``async with Server(...)`` or start/stop) or in a thread of its own
    (``with server.running_in_thread()``). Revocation: give CRL_PATH (a CRL of the segment CA) to refuse
    revoked client certificates in the TLS handshake, and/or REVOKED_SERIALS for the connection-level check;
    `replace_revoked` updates the latter at run time, for new connections (open keep-alive connections end
    within SERVER_KEEPALIVE_TIMEOUT of idleness).
    """

    def __init__(
        self,
        *,
        app: ASGIApp,
        identity: ServiceIdentity,
        host: str = "127.0.0.1",
        port: int = 0,
        crl_path: Path | None = None,
        revoked_serials: frozenset[int] = frozenset(),
        reuse_port: bool = False,
    ) -> None:
        """REUSE_PORT sets SO_REUSEPORT: several processes of one instance (`yakuba up --workers N`) listen on
        the same port and the kernel spreads new connections between them."""
        self._reuse_port = reuse_port
        self._app = app
        self._identity = identity
        self._host = host
        self._requested_port = port
        self._ssl = server_ssl_context(identity, crl_path=crl_path)
        self._gate = PeerGate(deployment=identity.deployment, revoked_serials=revoked_serials)
        self._port: int | None = None
        self._listener: Listener | None = None
        self._thread: threading.Thread | None = None
        self._thread_loop: asyncio.AbstractEventLoop | None = None

    @property
    def port(self) -> int:
        """The port actually bound (useful with port 0)."""
        if self._port is None:
            raise RuntimeError("the server is not started")
        return self._port

    @property
    def base_url(self) -> str:
        return f"https://{self._host}:{self.port}"

    def replace_revoked(self, serials: frozenset[int]) -> None:
        """Refuse client certificates with these serials on every new connection."""
        self._gate.replace_revoked(serials)

    async def start(self) -> None:
        """Bind, start serving in a task of the running loop, and return once requests are accepted."""
        if self._listener is not None:
            raise RuntimeError("the server is already started")
        if isinstance(self._app, FastAPI):
            check_route_policies(self._app)
        sock = bind_listener(self._host, self._requested_port, reuse_port=self._reuse_port)
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app,
            http=protocol_for(self._gate),
            ssl_context_factory=self._ssl_factory,
            ws="none",
            lifespan="auto",
            log_config=None,
            access_log=False,
            server_header=False,
            proxy_headers=False,
            timeout_keep_alive=SERVER_KEEPALIVE_TIMEOUT,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_TIMEOUT,
            limit_concurrency=MAX_CONCURRENT_REQUESTS,
        )
        listener = Listener(config, sock, name=self._identity.instance)
        try:
            await listener.start()
        except BaseException:
            self._port = None
            raise
        self._listener = listener
        _log.info("%s (%s) listening on %s", self._identity.instance, self._identity.role.value, self.base_url)

    async def stop(self) -> None:
        """Stop accepting, let running requests finish (up to GRACEFUL_SHUTDOWN_TIMEOUT), close everything."""
        if self._listener is None:
            return
        try:
            await self._listener.stop()
        finally:
            self._listener = None
            self._port = None

    async def __aenter__(self) -> Server:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @contextlib.contextmanager
    def running_in_thread(self) -> Iterator[Server]:
        """Serve from a thread with its own event loop (uvloop when installed) for the duration of the block."""
        started = threading.Event()
        failure: list[BaseException] = []
        loop_factory = uvicorn.Config(self._app, log_config=None).get_loop_factory()
        runner = asyncio.Runner(loop_factory=loop_factory)
        stop_requested: asyncio.Event | None = None

        async def main() -> None:
            nonlocal stop_requested
            stop_requested = asyncio.Event()
            try:
                await self.start()
            except BaseException as exc:
                failure.append(exc)
                started.set()
                return
            started.set()
            try:
                await stop_requested.wait()
            finally:
                await self.stop()

        thread = threading.Thread(target=lambda: runner.run(main()), name="yakuba-server", daemon=True)
        thread.start()
        # start() itself gives up after STARTUP_TIMEOUT; the margin covers creating the loop.
        if not started.wait(STARTUP_TIMEOUT + 5):
            failure.append(ConfigError(f"{self._identity.instance} did not start in its thread"))
        if failure:
            thread.join(STARTUP_TIMEOUT)
            runner.close()
            raise failure[0]
        try:
            yield self
        finally:
            loop = runner.get_loop()
            assert stop_requested is not None
            loop.call_soon_threadsafe(stop_requested.set)
            thread.join()
            runner.close()

    def _ssl_factory(self, _config: uvicorn.Config, _default: Callable[[], Any]) -> Any:
        return self._ssl


async def serve(
    app: ASGIApp,
    identity: ServiceIdentity,
    *,
    host: str,
    port: int,
    crl_path: Path | None = None,
    revoked_serials: frozenset[int] = frozenset(),
) -> None:
    """Serve APP as IDENTITY on HOST:PORT until cancelled; for `yakuba up` and role entry points."""
    server = Server(
        app=app, identity=identity, host=host, port=port, crl_path=crl_path, revoked_serials=revoked_serials
    )
    async with server:
        await asyncio.Event().wait()
