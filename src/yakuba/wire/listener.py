"""uvicorn on a socket we bound, served from a task of the running loop: the one way the product listens.

Shared by the roles' mutual-TLS servers (`yakuba.wire.Server`), the city console's HTTPS and the kiosk's
loopback screen, so that binding, readiness, start-up failures and shutdown behave the same everywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator

import uvicorn

from yakuba.errors import ConfigError

__all__ = ["STARTUP_TIMEOUT", "Listener", "bind_listener"]

STARTUP_TIMEOUT = 30.0
"""Seconds a server may take to start (lifespan start-up included) before start() gives up."""


def bind_listener(
    host: str, port: int, *, reuse_port: bool = False, hint_en: str = "", hint_ja: str = ""
) -> socket.socket:
    """A listening TCP socket on HOST:PORT (PORT 0 picks a free one); ConfigError naming the address otherwise.

    REUSE_PORT sets SO_REUSEPORT (several processes of one instance share the port). HINT_EN / HINT_JA are
    appended to the error, e.g. the command-line option that picks another port.
    """
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.create_server((host, port), family=family, reuse_port=reuse_port)
        # Accepted sockets inherit TCP_NODELAY from the listener. asyncio would set it itself only for
        # sockets made with proto=IPPROTO_TCP, which create_server does not ask for; without it Nagle's
        # algorithm meets the client's delayed ACK and every response waits ~40 ms.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on {host}:{port} ({exc.strerror or type(exc).__name__}){hint_en}",
            ja=f"{host}:{port} で待ち受けできません{hint_ja}",
        ) from exc
    return sock


class _Uvicorn(uvicorn.Server):
    """uvicorn's server without its signal handlers (the owner of the process handles signals), and with a
    readiness event."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.ready.set()


class Listener:
    """CONFIG's app served on SOCK from a task of the running loop; NAME appears in errors and the task name.

    `start()` returns once requests are accepted (or raises ConfigError); `stop()` stops accepting, lets
    running requests finish within the config's graceful timeout, and closes the socket.
    """

    def __init__(self, config: uvicorn.Config, sock: socket.socket, *, name: str) -> None:
        self._config = config
        self._sock = sock
        self._name = name
        self._server: _Uvicorn | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        port: int = self._sock.getsockname()[1]
        return port

    @property
    def running(self) -> bool:
        return self._task is not None

    async def start(self) -> None:
        if self._task is not None:
            raise RuntimeError(f"{self._name} is already started")
        server = _Uvicorn(self._config)
        task = asyncio.create_task(self._run(server, self._sock), name=f"yakuba-{self._name}")
        ready = asyncio.create_task(server.ready.wait())
        done, _ = await asyncio.wait({task, ready}, timeout=STARTUP_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
        if ready not in done:
            ready.cancel()
            if task in done:
                task.result()  # raises the start-up error
            server.should_exit = True
            await task
            raise ConfigError(
                f"{self._name} did not start within {STARTUP_TIMEOUT:.0f} s",
                ja=f"{self._name} が {STARTUP_TIMEOUT:.0f} 秒以内に開始しませんでした",
            )
        self._server, self._task = server, task

    async def stop(self) -> None:
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        try:
            await self._task
        finally:
            self._server = self._task = None

    async def _run(self, server: _Uvicorn, sock: socket.socket) -> None:
        try:
            await server.serve(sockets=[sock])
        except SystemExit as exc:
            # uvicorn exits the process when the app's lifespan start-up fails; here it only fails start().
            raise ConfigError(
                f"{self._name} failed during start-up (see the log)",
                ja=f"{self._name} の開始中にエラーが発生しました（ログを確認してください）",
            ) from exc
        finally:
            sock.close()
