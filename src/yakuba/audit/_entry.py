"""Audit entries: who did what to which (hashed) subject when, and their canonical leaf encoding."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from yakuba.audit._merkle import leaf_hash
from yakuba.errors import ValidationError

__all__ = [
    "ENTRY_VERSION",
    "MAX_FIELDS",
    "MAX_FIELD_TEXT",
    "Actor",
    "AuditEntry",
    "FieldValue",
]

ENTRY_VERSION = 1
"""Encoding version inside every leaf, so a later encoding never hashes the same as an earlier one."""

MAX_FIELDS = 32
"""An event's non-personal fields are a handful of ids and kinds; more suggests a record is being dumped."""

MAX_FIELD_TEXT = 200
"""Ids, kinds and hashes fit; long free text, where personal data hides, does not."""

MAX_JSON_INT = 2**53 - 1
"""Integers beyond this lose precision in JavaScript clients reading the same leaf."""

FieldValue = str | int | bool | None

_EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*){1,3}$")
_ROLE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_INSTANCE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_STAFF_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
_SUBJECT = re.compile(r"^[0-9a-f]{64}$")

PERSONAL_FIELD_PATTERN = re.compile(
    r"(^|_)(name|kana|address|addr|birth|birthday|dob|my_?number|individual_number|phone|tel|email|"
    r"gender|sex|postal|zip|card_serial|pin)($|_)"
)
"""Field names that would carry personal data in clear: a guard rail that rejects them early (subjects go
through `subject_key`). `store_id`, `kind`, `kiosk` pass; `name`, `resident_address`, `birth_date` do not."""

_MY_NUMBER_LIKE = re.compile(r"(?<!\d)\d{12}(?!\d)")
"""Twelve digits in a row look like an individual number (マイナンバー); never accepted in a field."""

_HEX_TOKEN = re.compile(r"(?:[a-z]{1,8}-)?[0-9a-f]{32,128}")
"""A digest or random id (SHA-256, `tx-` + 128 random bits): its hex may hold twelve digits in a row by chance
(a 64-digit hash about one time in thirty), which is not an individual number."""


def _format_time(when: dt.datetime) -> str:
    """RFC 3339 in UTC with microseconds: fixed width, so strings sort as times do."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_time(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class Actor:
    """Who acted: the role and instance of the process, and the staff member when a person did it."""

    role: str
    instance: str
    staff_id: str | None = None

    def __post_init__(self) -> None:
        if not _ROLE.match(self.role):
            raise ValidationError("audit actor role must be a short lowercase name")
        if not _INSTANCE.match(self.instance):
            raise ValidationError("audit actor instance must be an instance id")
        if self.staff_id is not None and not _STAFF_ID.match(self.staff_id):
            raise ValidationError("audit staff id must be an opaque id of at most 64 characters")


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEntry:
    """One event on the log. Holds no personal data: the subject is a keyed hash, fields are ids and kinds.

    `event_type` is dotted (`issuance.requested`, `registry.move_in`, `footage.viewed`);
    `subject` is `subject_key(...)` of the person or thing concerned, or None;
    `fields` are the event's non-personal facts (store, kiosk, kind, outcome, counts).
    """

    event_type: str
    actor: Actor
    time: dt.datetime
    subject: str | None = None
    fields: Mapping[str, FieldValue] = field(default_factory=dict)
    _time_text: str = field(init=False, repr=False, compare=False, default="")

    def __post_init__(self) -> None:
        if not _EVENT_TYPE.match(self.event_type):
            raise ValidationError("audit event type must be dotted lowercase, e.g. issuance.requested")
        if self.time.tzinfo is None:
            raise ValidationError("audit entry time must be timezone-aware")
        if self.subject is not None and not _SUBJECT.match(self.subject):
            raise ValidationError("audit subject must be a subject_key hash (64 hex digits), never an id in clear")
        if len(self.fields) > MAX_FIELDS:
            raise ValidationError(f"an audit entry holds at most {MAX_FIELDS} fields")
        for key, value in self.fields.items():
            _check_field(key, value)
        object.__setattr__(self, "fields", MappingProxyType(dict(sorted(self.fields.items()))))
        object.__setattr__(self, "_time_text", _format_time(self.time))

    def to_json_object(self) -> dict[str, Any]:
        actor: dict[str, str] = {"instance": self.actor.instance, "role": self.actor.role}
        if self.actor.staff_id is not None:
            actor["staff"] = self.actor.staff_id
        return {
            "actor": actor,
            "event": self.event_type,
            "fields": dict(self.fields),
            "subject": self.subject,
            "time": self.time_text,
            "v": ENTRY_VERSION,
        }

    @property
    def time_text(self) -> str:
        """The entry's time as written in the leaf: RFC 3339, UTC, microseconds."""
        return self._time_text

    def canonical_bytes(self) -> bytes:
        """The leaf data: RFC 8785 canonical JSON (for this value space: ASCII keys, no floats)."""
        return json.dumps(
            self.to_json_object(), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode("utf-8")

    def leaf_hash(self) -> bytes:
        return leaf_hash(self.canonical_bytes())

    @classmethod
    def from_canonical_bytes(cls, data: bytes) -> AuditEntry:
        """Parse a stored leaf back; raises ValidationError when it is not one this module wrote."""
        try:
            obj = json.loads(data.decode("utf-8"))
            if not isinstance(obj, dict) or obj.get("v") != ENTRY_VERSION:
                raise ValueError("unknown entry version")
            actor = obj["actor"]
            entry = cls(
                event_type=obj["event"],
                actor=Actor(role=actor["role"], instance=actor["instance"], staff_id=actor.get("staff")),
                time=_parse_time(obj["time"]),
                subject=obj["subject"],
                fields=obj["fields"],
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValidationError("stored audit entry is not a valid leaf") from exc
        if entry.canonical_bytes() != data:
            raise ValidationError("stored audit entry is not in canonical form")
        return entry


def _check_field(key: object, value: object) -> None:
    if not isinstance(key, str) or not _FIELD_NAME.match(key):
        raise ValidationError("audit field names are short lowercase identifiers")
    if PERSONAL_FIELD_PATTERN.search(key):
        raise ValidationError(f"audit field {key!r} would hold personal data; hash the subject instead")
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, int):
        if abs(value) > MAX_JSON_INT:
            raise ValidationError(f"audit field {key!r} is out of the exact JSON integer range")
        return
    if isinstance(value, str):
        if len(value) > MAX_FIELD_TEXT:
            raise ValidationError(f"audit field {key!r} is longer than {MAX_FIELD_TEXT} characters")
        if any(ord(c) < 0x20 for c in value):
            raise ValidationError(f"audit field {key!r} holds control characters")
        if _MY_NUMBER_LIKE.search(value) and not _HEX_TOKEN.fullmatch(value):
            raise ValidationError(f"audit field {key!r} looks like an individual number; never log one")
        return
    raise ValidationError(f"audit field {key!r} must be text, an integer, a boolean or null")
