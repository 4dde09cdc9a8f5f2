"""Serving the console: HTTPS (server certificate only: browsers carry none) on the configured address."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from collections.abc import Callable, Iterator
from typing import Any

import uvicorn

from yakuba.clock import Clock
from yakuba.config import Deployment
from yakuba.console.app import create_app, find_city
from yakuba.console.web_tls import WebCertificate, console_ssl_context, ensure_console_certificate
from yakuba.errors import ConfigError

__all__ = ["STARTUP_TIMEOUT", "ConsoleServer"]

_log = logging.getLogger("yakuba.console")

STARTUP_TIMEOUT = 30.0
"""Seconds the console may take to open its databases and listen before start() gives up."""

MAX_CONCURRENT_REQUESTS = 200
"""A city's staff and the companies verifying certificates are far fewer; above this, answer 503."""


class _Uvicorn(uvicorn.Server):
    """uvicorn without its signal handlers (the process owner handles signals), with a readiness event."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.ready.set()


class ConsoleServer:
    """The console of one city on its configured host and port (PORT overrides it, 0 picks a free one)."""

    def __init__(self, dep: Deployment, *, city_code: str, clock: Clock | None = None, port: int | None = None) -> None:
        self._dep = dep
        self._city = find_city(dep, city_code)
        assert self._city.console is not None
        self._config = self._city.console
        self._clock = clock
        self._port_asked = self._config.port if port is None else port
        self._port: int | None = None
        self._server: _Uvicorn | None = None
        self._task: asyncio.Task[None] | None = None
        self.certificate: WebCertificate | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the console is not started")
        return self._port

    @property
    def base_url(self) -> str:
        return f"{'https' if self._config.tls else 'http'}://{self._config.host}:{self.port}"

    async def start(self) -> None:
        """Issue (or reuse) the HTTPS certificate, bind, serve in a task, return once requests are accepted."""
        context: ssl.SSLContext | None = None
        if self._config.tls:
            # Real time, not the injected clock: browsers check the certificate against the real time.
            self.certificate = await asyncio.to_thread(ensure_console_certificate, self._dep, self._city)
            context = console_ssl_context(self.certificate)
        app = create_app(self._dep, city_code=self._city.code, certificate=self.certificate, clock=self._clock)
        try:
            sock = socket.create_server((self._config.host, self._port_asked))
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {self._config.host}:{self._port_asked} ({exc.strerror or type(exc).__name__})",
                ja=f"{self._config.host}:{self._port_asked} で待ち受けできません",
            ) from exc
        self._port = sock.getsockname()[1]

        def ssl_factory(_config: uvicorn.Config, _default: Callable[[], Any]) -> Any:
            return context

        config = uvicorn.Config(
            app,
            ssl_context_factory=ssl_factory if context is not None else None,
            ws="none",
            lifespan="on",
            log_config=None,
            access_log=False,
            server_header=False,
            proxy_headers=False,
            limit_concurrency=MAX_CONCURRENT_REQUESTS,
        )
        server = _Uvicorn(config)
        task = asyncio.create_task(self._run(server, sock), name=f"yakuba-console-{self._city.code}")
        ready = asyncio.create_task(server.ready.wait())
        done, _ = await asyncio.wait({task, ready}, timeout=STARTUP_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
        if ready not in done:
            ready.cancel()
            if task in done:
                task.result()
            server.should_exit = True
            await task
            raise ConfigError(f"the console of {self._city.code} did not start within {STARTUP_TIMEOUT} s")
        self._server, self._task = server, task
        _log.info("console of city %s listening on %s", self._city.code, self.base_url)

    async def stop(self) -> None:
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        try:
            await self._task
        finally:
            self._server = self._task = None

    async def serve_forever(self) -> None:
        await self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self.stop()

    @staticmethod
    async def _run(server: _Uvicorn, sock: socket.socket) -> None:
        try:
            await server.serve(sockets=[sock])
        except SystemExit as exc:
            raise ConfigError("the console failed during start-up (see the log)") from exc
        finally:
            sock.close()
