"""Serving the kiosk screen: plain HTTP on a loopback address only, next to the kiosk terminal it drives.

Why plain HTTP on loopback: the screen is the kiosk's own local display, a browser in kiosk mode on the same
machine; no other machine may reach it, so it binds 127.0.0.1 (or ::1) and refuses any other address. The
kiosk's links that leave the machine (to its HQ) stay mutual TLS, as everywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from yakuba.clock import Clock
from yakuba.config import Deployment
from yakuba.errors import ConfigError
from yakuba.kiosk.screen._controller import ScreenController
from yakuba.kiosk.screen._model import City, ScreenSettings
from yakuba.kiosk.screen._web import create_screen_app
from yakuba.kiosk.terminal import open_kiosk
from yakuba.pki.card import VirtualCardReader

__all__ = ["RunningScreen", "ScreenServer", "card_slot_dir", "open_screen", "tray_dir"]

STARTUP_TIMEOUT = 30.0


def card_slot_dir(dep: Deployment, instance: str) -> Path:
    """The kiosk's default card slot folder: ``<state_dir>/kiosks/<instance>/card-slot/``."""
    return dep.state_dir / "kiosks" / instance / "card-slot"


def tray_dir(dep: Deployment, instance: str) -> Path:
    """The kiosk's default output tray: ``<state_dir>/kiosks/<instance>/tray/``."""
    return dep.state_dir / "kiosks" / instance / "tray"


class _Uvicorn(uvicorn.Server):
    """uvicorn without its signal handlers (the command owns them), with a readiness event."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.ready.set()


class ScreenServer:
    """The screen app on HOST:PORT of a loopback address (PORT 0 picks a free one); ConfigError otherwise."""

    def __init__(self, *, controller: ScreenController, host: str = "127.0.0.1", port: int = 0) -> None:
        if not _is_loopback(host):
            raise ConfigError(
                f"the kiosk screen listens on a loopback address only, not {host}",
                ja=f"キオスク画面はループバックアドレスでのみ待ち受けます（{host} は不可）",
            )
        self._controller = controller
        self._host, self._requested_port = host, port
        self._port: int | None = None
        self._server: _Uvicorn | None = None
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def base_url(self) -> str:
        if self._port is None:
            raise RuntimeError("the screen is not started")
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self._port}"

    async def start(self) -> None:
        """Bind, serve in a task of the running loop, start the inactivity watchdog; returns once serving."""
        try:
            sock = socket.create_server(
                (self._host, self._requested_port), family=socket.AF_INET6 if ":" in self._host else socket.AF_INET
            )
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {self._host}:{self._requested_port} ({exc.strerror or type(exc).__name__}); "
                "choose another port with --port",
                ja=f"{self._host}:{self._requested_port} で待ち受けできません。--port で別のポートを指定してください",
            ) from exc
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            create_screen_app(self._controller),
            ws="none",
            lifespan="off",
            log_config=None,
            access_log=False,  # a PIN travels in a form body, never in a URL; still, no request is logged
            server_header=False,
            proxy_headers=False,
        )
        server = _Uvicorn(config)
        serving = asyncio.create_task(self._serve(server, sock), name="kiosk-screen-http")
        ready = asyncio.create_task(server.ready.wait())
        done, _ = await asyncio.wait({serving, ready}, timeout=STARTUP_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
        if ready not in done:
            ready.cancel()
            server.should_exit = True
            await serving
            raise ConfigError("the kiosk screen did not start", ja="キオスク画面を開始できませんでした")
        self._server = server
        self._tasks = [serving, asyncio.create_task(self._controller.watch(), name="kiosk-screen-watchdog")]

    async def stop(self) -> None:
        """Stop serving and watching; the controller ends any transaction as a reset would."""
        if self._server is None:
            return
        serving, watchdog = self._tasks
        watchdog.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watchdog
        self._server.should_exit = True
        await serving
        self._server, self._tasks, self._port = None, [], None
        await self._controller.close()

    @staticmethod
    async def _serve(server: _Uvicorn, sock: socket.socket) -> None:
        try:
            await server.serve(sockets=[sock])
        finally:
            sock.close()


@dataclass(frozen=True, slots=True, kw_only=True)
class RunningScreen:
    """A screen being served: where to point the browser, and its controller."""

    base_url: str
    controller: ScreenController


@asynccontextmanager
async def open_screen(
    dep: Deployment,
    *,
    instance: str,
    settings: ScreenSettings,
    host: str = "127.0.0.1",
    port: int = 0,
    clock: Clock | None = None,
    hq_url: str | None = None,
) -> AsyncIterator[RunningScreen]:
    """The kiosk INSTANCE (its link to HQ, log, printer) with its screen served on HOST:PORT, until exit.

    HQ_URL sends the kiosk's calls to another address than its HQ's configured one (a test's dead link)."""
    settings.card_slot.mkdir(parents=True, exist_ok=True)
    settings.tray.mkdir(mode=0o700, parents=True, exist_ok=True)
    cities = tuple(City(code=c.code, name_ja=c.name, name_en=c.name_en) for c in dep.cities)
    async with open_kiosk(dep, instance=instance, clock=clock, hq_url=hq_url) as kiosk:
        controller = ScreenController(
            kiosk=kiosk,
            settings=settings,
            cities=cities,
            open_card=lambda path: VirtualCardReader.open(dep, path=path),
        )
        server = ScreenServer(controller=controller, host=host, port=port)
        await server.start()
        try:
            yield RunningScreen(base_url=server.base_url, controller=controller)
        finally:
            await server.stop()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
