"""The one place a service maps errors to HTTP: one JSON body shape, a trace id for the unexpected, no stack traces."""

from __future__ import annotations

import contextlib
import http
import logging
import secrets
import traceback

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from yakuba.errors import NotFoundError, ValidationError, YakubaError
from yakuba.wire._errors import MAX_REQUEST_BODY_BYTES, RequestTooLargeError

__all__ = ["install_error_handlers"]

_log = logging.getLogger("yakuba.wire.server")

_HTTP_CODES = {
    404: (NotFoundError.code, NotFoundError.message_en, NotFoundError.message_ja),
    405: ("method_not_allowed", "This method is not allowed here.", "この操作はできません。"),
    413: (RequestTooLargeError.code, RequestTooLargeError.message_en, RequestTooLargeError.message_ja),
}


def log_unexpected(exc: BaseException, log: logging.Logger) -> str:
    """Log an unexpected error by its type and frames only (its message may carry request content) under a new
    trace id, and return the id for the answer, so staff can match a report to the log line."""
    trace_id = secrets.token_hex(8)
    frames = "".join(
        f"  {frame.filename}:{frame.lineno} in {frame.name}\n" for frame in traceback.extract_tb(exc.__traceback__)
    )
    log.error("unexpected %s, trace_id=%s\n%s", type(exc).__name__, trace_id, frames)
    return trace_id


def install_error_handlers(app: FastAPI) -> None:
    """Map YakubaError, request validation and HTTP errors to the standard body; catch everything else;
    refuse bodies over MAX_REQUEST_BODY_BYTES with the standard body too."""
    app.add_exception_handler(YakubaError, _yakuba_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _invalid_request)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]
    app.add_middleware(_BodyLimit)
    app.add_middleware(_UnexpectedErrors)


async def _yakuba_error(_request: Request, exc: YakubaError) -> JSONResponse:
    return JSONResponse(exc.to_body(), status_code=exc.http_status)


async def _invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
    # Name the fields and the kind of problem, never echo the input: it may be personal.
    where = sorted(
        {".".join(str(p) for p in err.get("loc", ())) + f" ({err.get('type', '?')})" for err in exc.errors()}
    )
    error = ValidationError(f"invalid request: {', '.join(where)}")
    return JSONResponse(error.to_body(), status_code=error.http_status)


async def _http_error(_request: Request, exc: HTTPException) -> JSONResponse:
    code, en, ja = _HTTP_CODES.get(
        exc.status_code, ("http_error", http.HTTPStatus(exc.status_code).phrase, "要求を処理できません。")
    )
    return JSONResponse(
        {"error": code, "message": en, "message_ja": ja}, status_code=exc.status_code, headers=exc.headers
    )


class _UnexpectedErrors:
    """Anything not raised on purpose: log it with a trace id, answer a generic 500 carrying that id.

    The log gets the exception type and where it was raised (file, line, function per frame) but neither
    the exception's message nor source lines, which may quote data (a key, a name) that must not reach
    logs; the wire gets none of it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_tracking)
        except Exception as exc:
            trace_id = log_unexpected(exc, _log)
            if started:
                # Too late for a body: uvicorn drops the connection and the client sees a broken response.
                return
            body = {**YakubaError().to_body(), "trace_id": trace_id}
            await JSONResponse(body, status_code=500)(scope, receive, send)


class _BodyLimit:
    """Refuse request bodies over MAX_REQUEST_BODY_BYTES with the standard 413 body: at once when
    Content-Length says so, else as soon as the streamed body passes the limit (whatever the app then tries to
    answer, typically a body-parsing error, is replaced by the 413)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and (not value.isdigit() or int(value) > MAX_REQUEST_BODY_BYTES):
                error = RequestTooLargeError() if value.isdigit() else ValidationError("bad Content-Length")
                await JSONResponse(error.to_body(), status_code=error.http_status)(scope, receive, send)
                return
        received = 0
        too_large = started = False

        async def receive_limited() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > MAX_REQUEST_BODY_BYTES:
                    too_large = True
                    raise RequestTooLargeError()
            return message

        async def send_unless_too_large(message: Message) -> None:
            nonlocal started
            if too_large:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        with contextlib.suppress(RequestTooLargeError):
            await self.app(scope, receive_limited, send_unless_too_large)
        if too_large and not started:
            error = RequestTooLargeError()
            await JSONResponse(error.to_body(), status_code=error.http_status)(scope, receive, send)
