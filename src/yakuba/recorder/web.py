"""The footage console's streaming endpoint: one segment, behind a logged view grant, with HTTP Range support."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from yakuba.errors import YakubaError
from yakuba.recorder._recorder import Recorder
from yakuba.recorder.errors import ViewGrantError

__all__ = ["create_app"]


def _token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    raise ViewGrantError()


def create_app(*, recorder: Recorder) -> Starlette:
    """`GET /v1/segments/{id}/stream` with `Authorization: Bearer <grant>`; the grant comes from `grant_view`,
    which logged who views what and why. Range requests are answered 206 by Starlette's FileResponse."""

    def stream(request: Request) -> Response:
        try:
            segment_id = int(request.path_params["segment_id"])
            path = recorder.open_grant(token=_token(request), segment_id=segment_id)
        except YakubaError as exc:
            return JSONResponse(exc.to_body(), status_code=exc.http_status)
        return FileResponse(path, media_type="video/mp4", headers={"cache-control": "no-store"})

    return Starlette(routes=[Route("/v1/segments/{segment_id:int}/stream", stream, methods=["GET", "HEAD"])])
