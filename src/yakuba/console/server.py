"""Serving the console: HTTPS (server certificate only: browsers carry none) on the configured address."""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable
from typing import Any

import uvicorn

from yakuba.clock import Clock
from yakuba.config import Deployment
from yakuba.console.app import create_app, find_city
from yakuba.console.web_tls import WebCertificate, console_ssl_context, ensure_console_certificate
from yakuba.wire.listener import STARTUP_TIMEOUT, Listener, bind_listener

__all__ = ["STARTUP_TIMEOUT", "ConsoleServer"]

_log = logging.getLogger("yakuba.console")

MAX_CONCURRENT_REQUESTS = 200
"""A city's staff and the companies verifying certificates are far fewer; above this, answer 503."""


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
        self._listener: Listener | None = None
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
        sock = bind_listener(self._config.host, self._port_asked)
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
        listener = Listener(config, sock, name=f"console-{self._city.code}")
        try:
            await listener.start()
        except BaseException:
            self._port = None
            raise
        self._listener = listener
        _log.info("console of city %s listening on %s", self._city.code, self.base_url)

    async def stop(self) -> None:
        if self._listener is None:
            return
        try:
            await self._listener.stop()
        finally:
            self._listener = None

    async def serve_forever(self) -> None:
        await self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self.stop()
