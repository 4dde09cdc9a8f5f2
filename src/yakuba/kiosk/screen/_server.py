"""Serving the kiosk screen: plain HTTP on a loopback address only, next to the kiosk terminal it drives.

Why plain HTTP on loopback: the screen is the kiosk's own local display, a browser in kiosk mode on the same
machine; no other machine may reach it, so it binds 127.0.0.1 (or ::1) and refuses any other address. The
kiosk's links that leave the machine (to its HQ) stay mutual TLS, as everywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
from collections.abc import AsyncIterator
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
from yakuba.wire.listener import Listener, bind_listener

__all__ = ["RunningScreen", "ScreenServer", "card_slot_dir", "open_screen", "tray_dir"]


def card_slot_dir(dep: Deployment, instance: str) -> Path:
    """The kiosk's default card slot folder: ``<state_dir>/kiosks/<instance>/card-slot/``."""
    return dep.state_dir / "kiosks" / instance / "card-slot"


def tray_dir(dep: Deployment, instance: str) -> Path:
    """The kiosk's default output tray: ``<state_dir>/kiosks/<instance>/tray/``."""
    return dep.state_dir / "kiosks" / instance / "tray"


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
        self._listener: Listener | None = None
        self._watchdog: asyncio.Task[None] | None = None

    @property
    def base_url(self) -> str:
        if self._port is None:
            raise RuntimeError("the screen is not started")
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self._port}"

    async def start(self) -> None:
        """Bind, serve in a task of the running loop, start the inactivity watchdog; returns once serving."""
        sock = bind_listener(
            self._host,
            self._requested_port,
            hint_en="; choose another port with --port",
            hint_ja="。--port で別のポートを指定してください",
        )
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
        listener = Listener(config, sock, name="kiosk-screen")
        try:
            await listener.start()
        except BaseException:
            self._port = None
            raise
        self._listener = listener
        self._watchdog = asyncio.create_task(self._controller.watch(), name="kiosk-screen-watchdog")

    async def stop(self) -> None:
        """Stop serving and watching; the controller ends any transaction as a reset would."""
        if self._listener is None:
            return
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
        await self._listener.stop()
        self._listener, self._watchdog, self._port = None, None, None
        await self._controller.close()


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
