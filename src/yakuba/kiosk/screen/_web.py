"""The kiosk screen's web layer: one page drawn from the controller's view, form posts for every press.

No resident data ever travels in a URL (every page is ``/``; actions are ``POST /act/<name>``), nothing is kept
in the browser (no storage, no cookies; every answer says ``Cache-Control: no-store``), and the only script is
the page's own: a PIN pad that shows dots, a poll of ``/state`` (a version number) to redraw, the printing bar,
and the take-your-certificate chime.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from yakuba.kiosk.screen._controller import ScreenController
from yakuba.kiosk.screen._model import View
from yakuba.kiosk.screen._texts import KIND_NAMES, text

__all__ = ["LOOPBACK_HOSTS", "SECURITY_HEADERS", "create_screen_app"]

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]", "::1")
"""Host names the screen answers to: it is the kiosk's own local display (and a DNS-rebinding page is refused)."""

SECURITY_HEADERS: dict[str, str] = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}
"""Sent with every answer: nothing cached or stored, no framing, only the page's own script and style."""

_ENV = Environment(
    loader=PackageLoader("yakuba.kiosk.screen", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


class _Headers:
    """Adds SECURITY_HEADERS to every answer, and refuses a post from another origin (403)."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        if scope["method"] == "POST" and not _same_origin(scope):
            await Response("forbidden", status_code=403, headers=SECURITY_HEADERS)(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.decode().lower() != "cache-control"]
                headers += [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                message = {**message, "headers": headers}
            await send(message)

        await self._app(scope, receive, send_with_headers)


def _same_origin(scope: Scope) -> bool:
    """A browser's post comes from the screen's own page (Sec-Fetch-Site, else Origin); a post without either is
    not from a browser page, and still needs the resident's token."""
    headers: dict[str, str] = {k.decode().lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    site = headers.get("sec-fetch-site")
    if site is not None:
        return site == "same-origin"
    origin = headers.get("origin")
    return origin is None or origin.split("://", 1)[-1] == headers.get("host", "")


def create_screen_app(controller: ScreenController) -> FastAPI:
    """The screen of CONTROLLER's kiosk as an ASGI app (serve it on loopback only: see `ScreenServer`)."""
    app = FastAPI(title="kiosk screen", docs_url=None, redoc_url=None, openapi_url=None)
    static = resources.files("yakuba.kiosk.screen") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")

    @app.get("/", response_class=HTMLResponse)
    async def page() -> HTMLResponse:
        return HTMLResponse(render(controller.view()))

    @app.get("/state")
    async def state() -> JSONResponse:
        return JSONResponse({"v": controller.version})

    @app.post("/act/{action}")
    async def act(action: str, request: Request) -> RedirectResponse:
        form = await request.form()
        fields: dict[str, str | list[str]] = {}
        for key in form:
            values = [v for v in form.getlist(key) if isinstance(v, str)]
            fields[key] = values if len(values) > 1 else (values[0] if values else "")
        await controller.act(action, fields)
        return RedirectResponse("/", status_code=303)

    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(LOOPBACK_HOSTS))
    app.add_middleware(_Headers)
    return app


def render(view: View) -> str:
    """The page for VIEW."""

    def t(key: str) -> str:
        return text(key, view.lang)

    def kind_name(kind: str) -> str:
        ja, en = KIND_NAMES.get(kind, (kind, kind))
        return en if view.lang == "en" else ja

    def both(pair: tuple[str, str] | None) -> tuple[str, str]:
        """(shown language, the other) of a (ja, en) pair."""
        if pair is None:
            return ("", "")
        return (pair[1], pair[0]) if view.lang == "en" else pair

    def yen(amount: int) -> str:
        return f"{amount:,} yen" if view.lang == "en" else f"{amount:,}円"

    context: dict[str, Any] = {"v": view, "t": t, "kind_name": kind_name, "both": both, "yen": yen}
    return _ENV.get_template("screen.html").render(context)
