"""The center's client of the JPKI status service: fetch the card CRL (only when it changed), ask statuses."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
import pydantic

from yakuba.config import Role
from yakuba.errors import UpstreamError, UpstreamTimeout
from yakuba.jpki.api import PATH_CRL, PATH_STATUS, CrlAnswer, StatusAnswer
from yakuba.jpki.service import CardStatus
from yakuba.wire import ServiceClient
from yakuba.wire.client import read_limited

__all__ = ["MAX_CRL_BYTES", "CrlFetch", "JpkiClient"]

_M = TypeVar("_M", bound=pydantic.BaseModel)

MAX_CRL_BYTES = 32 * 1024 * 1024
"""A CRL answer (base64 DER in JSON) larger than this is refused rather than buffered: about 600,000 entries,
well above the revocations of a year for the whole country's cards."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CrlFetch:
    """What the JPKI answered: the CRL's DER, or None when the caller's known number is still current."""

    number: int
    der: bytes | None


class JpkiClient:
    """Calls the JPKI status service at BASE_URL over SESSION (a `client_session(..., expected_role=JPKI)`)."""

    __slots__ = ("_base_url", "_calls", "_session")

    def __init__(self, *, session: aiohttp.ClientSession, base_url: str) -> None:
        # ServiceClient checks that the session is an mTLS one insisting on a JPKI server.
        self._calls = ServiceClient(session=session, base_url=base_url, expected_role=Role.JPKI)
        self._session = session
        self._base_url = base_url.rstrip("/")

    async def fetch_crl(self, *, known_number: int | None) -> CrlFetch:
        """The current CRL, or only its number when it is KNOWN_NUMBER; UpstreamError/UpstreamTimeout else."""
        params = {} if known_number is None else {"known": str(known_number)}
        url = self._base_url + PATH_CRL
        try:
            async with self._session.get(url, params=params) as response:
                payload = await read_limited(response, limit=MAX_CRL_BYTES)
                status = response.status
        except TimeoutError as exc:
            raise UpstreamTimeout("no answer from the JPKI status service in time") from exc
        except aiohttp.ClientError as exc:
            raise UpstreamError(f"the JPKI status service failed ({type(exc).__name__})") from exc
        if status != 200:
            raise UpstreamError(f"the JPKI status service answered {status} to a CRL fetch")
        answer = _parse(CrlAnswer, payload)
        if not answer.unchanged and answer.crl is None:
            raise UpstreamError("the JPKI status service answered a changed CRL without the CRL")
        return CrlFetch(number=answer.number, der=None if answer.unchanged else answer.crl)

    async def status(self, serials: Sequence[str]) -> dict[str, CardStatus]:
        """The status of each card serial (upper case); the JPKI's errors come back as our error classes."""
        body = {"serials": list(serials)}  # checked by the service, which names what is wrong
        document = await self._calls.post_json(PATH_STATUS, body, idempotency_key=None)
        return dict(_validate(StatusAnswer, document).statuses)


def _parse(model: type[CrlAnswer], payload: bytes) -> CrlAnswer:
    try:
        document = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise UpstreamError("the JPKI status service answered without JSON") from exc
    return _validate(model, document)


def _validate(model: type[_M], document: Any) -> _M:
    try:
        return model.model_validate(document)
    except pydantic.ValidationError as exc:
        raise UpstreamError(f"the JPKI status service answered a malformed {model.__name__}") from exc
