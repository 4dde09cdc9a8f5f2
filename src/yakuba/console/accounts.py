"""Staff accounts of the city console: roles, and passwords hashed with Argon2id; no HTTP, no ORM."""

from __future__ import annotations

import datetime as dt
import enum
import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from yakuba.errors import ValidationError

__all__ = [
    "LOGIN_PATTERN",
    "MIN_PASSWORD_CHARS",
    "PasswordHashing",
    "Staff",
    "StaffRole",
    "check_login",
]

MIN_PASSWORD_CHARS = 12
"""NIST SP 800-63B asks for at least 8; staff passwords guard every resident's issuance record, so 12."""

MAX_PASSWORD_CHARS = 256
"""Longer input is refused before hashing: a password is not a document, and huge input costs CPU."""

LOGIN_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")
"""Login names are short account ids (not a person's full name), so logs and the audit can name them."""


class StaffRole(enum.StrEnum):
    """What a staff member may do; each role includes the ones before it."""

    VIEWER = "viewer"
    """閲覧: statistics, settlement, the issuance log, alerts, the audit log, the encryption map."""
    OPERATOR = "operator"
    """運用: and the service controls (suspend a kind, maintenance windows)."""
    SUPERVISOR = "supervisor"
    """監督: and resuming issuance for the city after an integrity error."""

    @property
    def rank(self) -> int:
        return list(StaffRole).index(self)

    def allows(self, needed: StaffRole) -> bool:
        return self.rank >= needed.rank


@dataclass(frozen=True, slots=True, kw_only=True)
class Staff:
    """A staff account (the password hash stays in the store)."""

    id: int
    login: str
    role: StaffRole
    created_at: dt.datetime
    disabled: bool = False


class PasswordHashing:
    """Argon2id with argon2-cffi's defaults (RFC 9106's second recommended option: 64 MiB, 3 passes, 4 lanes).

    Careful: the one place staff passwords are handled; they are never logged, stored or compared in clear.
    """

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()

    def hash(self, password: str) -> str:
        """The encoded Argon2id hash of PASSWORD, after the length rules."""
        if len(password) < MIN_PASSWORD_CHARS:
            raise ValidationError(
                f"a staff password has at least {MIN_PASSWORD_CHARS} characters",
                ja=f"パスワードは{MIN_PASSWORD_CHARS}文字以上にしてください",
            )
        if len(password) > MAX_PASSWORD_CHARS:
            raise ValidationError(
                f"a staff password has at most {MAX_PASSWORD_CHARS} characters",
                ja=f"パスワードは{MAX_PASSWORD_CHARS}文字以内にしてください",
            )
        return self._hasher.hash(password)

    def verify(self, encoded: str, password: str) -> bool:
        """Whether PASSWORD matches ENCODED (constant-time inside argon2); a malformed hash never matches."""
        if len(password) > MAX_PASSWORD_CHARS:
            return False
        try:
            return self._hasher.verify(encoded, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, encoded: str) -> bool:
        """Whether ENCODED was made with weaker parameters than today's (rehash it at the next login)."""
        return self._hasher.check_needs_rehash(encoded)

    def dummy_verify(self, password: str) -> None:
        """Spend the time of one verification for a login name that does not exist (no account enumeration by
        timing)."""
        self.verify(_DUMMY_HASH, password)


def check_login(login: str) -> str:
    """LOGIN, if it is a valid account id."""
    if not LOGIN_PATTERN.match(login):
        raise ValidationError(
            "a login name is 2-40 of a-z, 0-9, '.', '_', '-'",
            ja="ログイン名は英小文字・数字・「._-」の2〜40文字です",
        )
    return login


_DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$neBoAbN0V2uMR/QUfwrngg$iKroXp15N8MSj2MR/9klJalCWFBvZgCFU3Coq9fOVsU"
