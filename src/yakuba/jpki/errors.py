"""Errors of the JPKI status service, in the one error tree."""

from __future__ import annotations

from yakuba.errors import ValidationError

__all__ = ["StatusBatchTooLargeError"]


class StatusBatchTooLargeError(ValidationError):
    """A status query names more serials than one batch may."""

    message_ja = "一度に照会できる証明書の数を超えています。"
    message_en = "Too many certificates in one status query."
