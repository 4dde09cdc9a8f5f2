"""Errors of the wire itself, in the one error tree."""

from __future__ import annotations

from yakuba.errors import ValidationError

__all__ = ["MAX_REQUEST_BODY_BYTES", "RequestTooLargeError"]

MAX_REQUEST_BODY_BYTES = 1024 * 1024
"""1 MiB: a signed request (card certificate, signature, a few fields) is a few KiB; documents only travel
back, in responses. The bound stops memory exhaustion by a misbehaving peer."""


class RequestTooLargeError(ValidationError):
    """The request body is larger than MAX_REQUEST_BODY_BYTES."""

    code = "request_too_large"
    http_status = 413
    message_ja = "要求が大きすぎます。"
    message_en = "The request is too large."
