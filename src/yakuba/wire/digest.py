"""Canonical JSON (RFC 8785) and the SHA-256 request digest every hop and the card agree on."""

from __future__ import annotations

import hashlib
from typing import Any

import rfc8785

from yakuba.errors import ValidationError

__all__ = ["DIGEST_SIZE", "MAX_NESTING", "canonical_json", "request_digest"]

DIGEST_SIZE = 32
"""SHA-256: the digest the card signs over, so it is the JPKI auth key's hash (RSA-2048 / SHA-256)."""

MAX_NESTING = 32
"""Deepest nesting of arrays and objects accepted; requests are flat, and a bound stops stack exhaustion."""


def canonical_json(obj: Any) -> bytes:
    """The RFC 8785 (JCS) serialization of OBJ: sorted keys, no whitespace, one spelling per value.

    Accepted: None, bool, str, int within +/-(2**53 - 1), and lists, tuples and str-keyed dicts of them.

    Floats are refused, even integral ones such as 2.0. Decision: no request field is fractional (fees are
    whole yen, counts and dates are integers or strings), so a float is a bug in the sender; and the JSON
    stacks on either side of the card disagree about whether 2.0 and 2 are the same value (Python keeps
    the float, JCS writes "2"), which is exactly the ambiguity a signed digest must not have. Integers
    beyond 2**53 are refused by RFC 8785 itself (they do not survive an IEEE 754 double).

    Raises ValidationError for anything else, naming only the offending type, never the value.
    """
    _check(obj, depth=0)
    try:
        return rfc8785.dumps(obj)
    except rfc8785.CanonicalizationError as exc:
        # The message of IntegerDomainError carries the value: keep it off the wire and out of logs.
        raise ValidationError(f"cannot canonicalize the request ({type(exc).__name__})") from exc


def request_digest(obj: Any) -> bytes:
    """SHA-256 of the canonical JSON of OBJ: what the card signs and what the seal binds to."""
    return hashlib.sha256(canonical_json(obj)).digest()


def _check(obj: Any, *, depth: int) -> None:
    if depth > MAX_NESTING:
        raise ValidationError(f"request nested deeper than {MAX_NESTING} levels")
    if obj is None or isinstance(obj, bool | int | str):
        return
    if isinstance(obj, float):
        raise ValidationError("floating-point numbers are not allowed in a signed request; use integers")
    if isinstance(obj, dict):
        for key, value in obj.items():
            if not isinstance(key, str):
                raise ValidationError(f"object keys must be strings, not {type(key).__name__}")
            _check(value, depth=depth + 1)
        return
    if isinstance(obj, list | tuple):
        for item in obj:
            _check(item, depth=depth + 1)
        return
    raise ValidationError(f"a {type(obj).__name__} cannot be part of a signed request")
