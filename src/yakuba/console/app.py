"""Building the console's ASGI app for one city: its state, error pages, the public pages (login, verification)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from yakuba.clock import Clock, SystemClock
from yakuba.config import CityConfig, Deployment
from yakuba.console.city import CityOffice
from yakuba.console.errors import SessionRequiredError
from yakuba.console.rendering import FORM_COOKIE, SESSION_COOKIE, Pages, error_page
from yakuba.console.service import ConsoleAccess, StaffSession, check_csrf
from yakuba.console.store import SqlConsoleStore
from yakuba.console.verification import MAX_UPLOAD_BYTES, Finding, check_serial, check_upload
from yakuba.console.web_tls import WebCertificate
from yakuba.documents import DocumentTrust
from yakuba.errors import ConfigError, NotFoundError, ValidationError, YakubaError
from yakuba.wire import log_unexpected

__all__ = ["ConsoleState", "create_app", "find_city"]

_log = logging.getLogger("yakuba.console")

STATIC = Path(__file__).resolve().parent / "static"


def find_city(dep: Deployment, code: str) -> CityConfig:
    """The city CODE of DEP, with a console section; ConfigError otherwise."""
    try:
        city = dep.city(code)
    except KeyError:
        raise ConfigError(
            f"city {code} is not in this deployment", ja=f"市区町村 {code} はこの構成にありません"
        ) from None
    if city.console is None:
        raise ConfigError(
            f"city {code} has no console section in the configuration",
            ja=f"市区町村 {code} に console の設定がありません",
        )
    return city


@dataclass(slots=True, kw_only=True)
class ConsoleState:
    """What every page of one console uses, built in the app's lifespan."""

    dep: Deployment
    city: CityConfig
    clock: Clock
    pages: Pages
    office: CityOffice
    access: ConsoleAccess
    store: SqlConsoleStore
    trust: DocumentTrust
    certificate: WebCertificate | None

    def close(self) -> None:
        self.office.close()
        self.store.dispose()


def state_of(request: Request) -> ConsoleState:
    state = getattr(request.app.state, "console", None)
    if not isinstance(state, ConsoleState):
        raise ConfigError("the console is not started")
    return state


State = Annotated[ConsoleState, Depends(state_of)]


def current_session(request: Request, state: State) -> StaffSession:
    """The staff session of the request's cookie; SessionRequiredError (-> the login page) without one."""
    return state.access.session(request.cookies.get(SESSION_COOKIE))


def _open_state(
    dep: Deployment, city: CityConfig, clock: Clock, certificate: WebCertificate | None, pages: Pages
) -> ConsoleState:
    assert city.console is not None
    store = SqlConsoleStore.from_url(dep.database_url(city.console.database))
    try:
        office = CityOffice(dep=dep, city=city, clock=clock)
    except BaseException:
        store.dispose()
        raise
    return ConsoleState(
        dep=dep,
        city=city,
        clock=clock,
        pages=pages,
        office=office,
        access=ConsoleAccess(store=store, clock=clock),
        store=store,
        trust=DocumentTrust.from_key_dir(dep.key_dir),
        certificate=certificate,
    )


def create_app(
    dep: Deployment, *, city_code: str, certificate: WebCertificate | None, clock: Clock | None = None
) -> FastAPI:
    """The console of CITY_CODE; its databases are opened in the lifespan (nothing at import or here).
    CERTIFICATE: the HTTPS certificate the server presents (None: plain HTTP, for a console behind a proxy)."""
    from yakuba.console.staff_pages import build_staff_router

    city = find_city(dep, city_code)
    pages = Pages(secure_cookies=city.console is not None and city.console.tls)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = await asyncio.to_thread(_open_state, dep, city, clock or SystemClock(), certificate, pages)
        app.state.console = state
        try:
            yield
        finally:
            app.state.console = None
            state.close()

    app = FastAPI(
        title=f"yakuba console {city.code}", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.exception_handler(YakubaError)
    async def _refused(request: Request, exc: YakubaError) -> Response:
        if isinstance(exc, SessionRequiredError) and request.method == "GET":
            return pages.redirect(request, f"/login?next={request.url.path}")
        return error_page(pages, request, exc)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 404:
            return error_page(pages, request, NotFoundError())
        error = ValidationError() if exc.status_code < 500 else YakubaError()
        return error_page(pages, request, error)

    _public_routes(app, pages)
    app.include_router(build_staff_router())
    app.add_middleware(_BodyLimit, pages=pages)
    app.add_middleware(_UnexpectedErrors, pages=pages)
    return app


class _UnexpectedErrors:
    """Anything not raised on purpose: logged with a trace id, the exception's type and where it was raised
    (never its message or source lines, which may quote data), and answered with a generic page carrying the
    trace id; the exception does not travel further (uvicorn would log it whole)."""

    def __init__(self, app: ASGIApp, *, pages: Pages) -> None:
        self.app = app
        self.pages = pages

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception as exc:
            trace_id = log_unexpected(exc, _log)
            if started:
                return
            error = YakubaError(
                f"Unexpected error (trace id {trace_id})", ja=f"予期しないエラー（追跡番号 {trace_id}）"
            )
            await error_page(self.pages, Request(scope, receive), error)(scope, receive, send)


MAX_BODY_BYTES = MAX_UPLOAD_BYTES + 64 * 1024
"""The largest request accepted: one upload plus its form fields and multipart framing."""


class _BodyLimit:
    """Refuse a request body over MAX_BODY_BYTES before the form parser spools it to disk: at once when
    Content-Length says so, else when the streamed body passes the limit (413 page either way)."""

    def __init__(self, app: ASGIApp, *, pages: Pages) -> None:
        self.app = app
        self.pages = pages

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > MAX_BODY_BYTES:
            await self._refuse(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > MAX_BODY_BYTES:
                raise ValidationError("the request is too large", ja="送信されたデータが大きすぎます")
            return message

        await self.app(scope, limited, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        error = ValidationError("the request is too large", ja="送信されたデータが大きすぎます")
        response = error_page(self.pages, request, error)
        response.status_code = 413
        await response(scope, receive, send)


def _date_or_none(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        raise ValidationError("a date is YYYY-MM-DD", ja="日付は YYYY-MM-DD の形式です") from None


def _safe_next(target: str | None) -> str:
    """Where to go after login: only a staff page of this site (no open redirect)."""
    if target and target.startswith("/staff/") and "//" not in target and "\\" not in target:
        return target
    return "/staff/stats"


def _public_routes(app: FastAPI, pages: Pages) -> None:
    @app.get("/health")
    async def health() -> JSONResponse:
        return JSONResponse({"status": "ok", "role": "console"})

    @app.get("/")
    async def root(request: Request) -> RedirectResponse:
        return pages.redirect(request, "/staff/stats")

    @app.get("/login")
    def login_page(request: Request, next: str | None = None) -> HTMLResponse:
        return pages.render_form(request, "login.html", next=_safe_next(next), session=None, error=None)

    @app.post("/login")
    def login(
        request: Request,
        state: State,
        login: Annotated[str, Form(max_length=64)] = "",
        password: Annotated[str, Form(max_length=512)] = "",
        form_token: Annotated[str, Form(max_length=128)] = "",
        next: Annotated[str, Form(max_length=300)] = "",
    ) -> Response:
        check_csrf(request.cookies.get(FORM_COOKIE), form_token)
        token, _session = state.access.login(login=login, password=password)
        response = pages.redirect(request, _safe_next(next))
        pages.set_cookie(response, SESSION_COOKIE, token)
        return response

    @app.post("/logout")
    def logout(request: Request, state: State, csrf: Annotated[str, Form(max_length=128)] = "") -> Response:
        session = current_session(request, state)
        check_csrf(session.csrf_token, csrf)
        state.access.logout(request.cookies.get(SESSION_COOKIE))
        response = pages.redirect(request, "/login")
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @app.get("/verify")
    def verify_page(request: Request, state: State) -> HTMLResponse:
        return pages.render_form(request, "verify.html", finding=None, city=state.city, session=None)

    @app.post("/verify")
    async def verify(
        request: Request,
        state: State,
        form_token: Annotated[str, Form(max_length=128)] = "",
        serial: Annotated[str, Form(max_length=40)] = "",
        issued_on: Annotated[str, Form(max_length=10)] = "",
        file: Annotated[UploadFile | None, File()] = None,
    ) -> HTMLResponse:
        check_csrf(request.cookies.get(FORM_COOKIE), form_token)
        finding: Finding
        if file is not None and file.filename:
            data = await file.read(MAX_UPLOAD_BYTES + 1)
            finding = await asyncio.to_thread(check_upload, state.office, data, trust=state.trust)
        elif serial.strip():
            finding = await asyncio.to_thread(check_serial, state.office, serial, _date_or_none(issued_on))
        else:
            raise ValidationError(
                "enter a serial or choose a file", ja="証明書番号を入力するかファイルを選んでください"
            )
        return pages.render_form(request, "verify.html", finding=finding, city=state.city, session=None)
