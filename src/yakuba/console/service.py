"""The console's access rules: staff logins, sessions, roles, CSRF tokens; no HTTP, no ORM."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from typing import Protocol

from yakuba.clock import Clock
from yakuba.console.accounts import PasswordHashing, Staff, StaffRole, check_login
from yakuba.console.errors import CsrfError, LoginFailedError, RoleRequiredError, SessionRequiredError

__all__ = [
    "LOCKOUT",
    "LOCK_AFTER_FAILURES",
    "SESSION_LIFETIME",
    "ConsoleAccess",
    "ConsoleStore",
    "StaffSession",
    "check_csrf",
]

_log = logging.getLogger("yakuba.console")

SESSION_LIFETIME = dt.timedelta(hours=8)
"""One working shift; after it, staff log in again (a console left open overnight is not a session)."""

LOCK_AFTER_FAILURES = 5
"""Failed passwords in a row before an account is locked (online guessing gets five tries per lockout)."""

LOCKOUT = dt.timedelta(minutes=15)
"""How long a locked account stays locked."""

TOKEN_BYTES = 32
"""Session and CSRF tokens: 256 random bits each."""


class _StaffRowLike(Protocol):
    staff: Staff
    password_hash: str
    failed_logins: int
    locked_until: dt.datetime | None


class _SessionRowLike(Protocol):
    staff: Staff
    csrf_token: str
    expires_at: dt.datetime


class ConsoleStore(Protocol):
    """Staff accounts and sessions (yakuba.console.store.SqlConsoleStore)."""

    def add_staff(self, *, login: str, role: StaffRole, password_hash: str, at: dt.datetime) -> Staff: ...
    def set_password(self, staff_id: int, password_hash: str) -> None: ...
    def fetch_staff_for_login(self, login: str) -> _StaffRowLike | None: ...
    def claim_login_attempt(
        self, staff_id: int, *, now: dt.datetime, lock_after: int, locked_until: dt.datetime
    ) -> int: ...
    def lock(self, staff_id: int, *, until: dt.datetime) -> None: ...
    def change_staff(self, login: str, *, disabled: bool | None = None, password_hash: str | None = None) -> Staff: ...
    def list_staff(self) -> list[Staff]: ...
    def record_login(self, staff_id: int) -> None: ...
    def open_session(
        self, *, token_hash: bytes, staff_id: int, csrf_token: str, at: dt.datetime, expires_at: dt.datetime
    ) -> None: ...
    def fetch_session(self, token_hash: bytes) -> _SessionRowLike | None: ...
    def close_session(self, token_hash: bytes) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class StaffSession:
    """A logged-in staff member as a page sees them."""

    staff: Staff
    csrf_token: str
    expires_at: dt.datetime

    def require(self, role: StaffRole) -> None:
        """Raise RoleRequiredError unless this staff member's role includes ROLE."""
        if not self.staff.role.allows(role):
            _log.warning("staff %d (%s) refused: needs %s", self.staff.id, self.staff.role.value, role.value)
            raise RoleRequiredError()


def _token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("ascii", "replace")).digest()


def check_csrf(expected: str | None, sent: str | None) -> None:
    """Raise CsrfError unless SENT is present and equals EXPECTED (constant-time): a form posted from another
    site carries no token, since it cannot read our pages."""
    if not expected or not sent or not hmac.compare_digest(expected.encode(), sent.encode()):
        raise CsrfError()


class ConsoleAccess:
    """Who may use the console: accounts, logins with lockout, sessions that end."""

    def __init__(self, *, store: ConsoleStore, clock: Clock, hashing: PasswordHashing | None = None) -> None:
        self._store = store
        self._clock = clock
        self._hashing = hashing or PasswordHashing()

    def add_staff(self, *, login: str, role: StaffRole, password: str) -> Staff:
        """A new staff account with PASSWORD hashed (Argon2id); StaffExistsError when the login is taken."""
        staff = self._store.add_staff(
            login=check_login(login), role=role, password_hash=self._hashing.hash(password), at=self._clock.now()
        )
        _log.info("staff %d added with role %s", staff.id, role.value)
        return staff

    def list_staff(self) -> list[Staff]:
        """Every account, in the order they were added (disabled ones included: an account is never deleted,
        its id stays in the audit trail)."""
        return self._store.list_staff()

    def disable_staff(self, login: str) -> Staff:
        """A leaver's or a compromised account: no login from now on, and every open session ends at once."""
        staff = self._store.change_staff(check_login(login), disabled=True)
        _log.warning("staff %d disabled; its sessions ended", staff.id)
        return staff

    def enable_staff(self, login: str) -> Staff:
        """A disabled account back in use (its password unchanged; its lock, if any, cleared)."""
        staff = self._store.change_staff(check_login(login), disabled=False)
        _log.warning("staff %d enabled", staff.id)
        return staff

    def reset_password(self, login: str, password: str) -> Staff:
        """A new password for LOGIN (hashed as on creation): its lock is cleared and its open sessions end,
        so whoever knew the old one is out."""
        staff = self._store.change_staff(check_login(login), password_hash=self._hashing.hash(password))
        _log.warning("staff %d given a new password; its sessions ended", staff.id)
        return staff

    def login(self, *, login: str, password: str) -> tuple[str, StaffSession]:
        """Check LOGIN and PASSWORD; a new session (its cookie token, and the session).

        1. Unknown login: spend one verification's time anyway, then LoginFailedError (no enumeration of
           accounts by the answer or its timing).
        2. A disabled or locked account: LoginFailedError, the same answer as a wrong password (a guesser
           learns nothing from the lock).
        3. Count the attempt before the password is checked, atomically: guesses sent at the same moment each
           get their own number, and past LOCK_AFTER_FAILURES they lock the account unchecked (online guessing
           gets LOCK_AFTER_FAILURES tries per LOCKOUT however it is sent). A wrong password whose number is
           LOCK_AFTER_FAILURES locks the account for LOCKOUT.
        4. Right password: reset the count, rehash if the parameters were raised since, open a session with a
           random token (only its hash is stored) and a random CSRF token, ending after SESSION_LIFETIME.
        """
        now = self._clock.now()
        row = self._store.fetch_staff_for_login(login.strip().lower())
        if row is None:  # 1
            self._hashing.dummy_verify(password)
            _log.info("login refused: unknown account")
            raise LoginFailedError()
        if row.staff.disabled or (row.locked_until is not None and row.locked_until > now):  # 2
            self._hashing.dummy_verify(password)
            _log.warning("login refused: staff %d is disabled or locked", row.staff.id)
            raise LoginFailedError()
        attempt = self._store.claim_login_attempt(  # 3
            row.staff.id, now=now, lock_after=LOCK_AFTER_FAILURES, locked_until=now + LOCKOUT
        )
        if not attempt:
            self._hashing.dummy_verify(password)
            _log.warning("login refused: staff %d is locked (attempts at once)", row.staff.id)
            raise LoginFailedError()
        if not self._hashing.verify(row.password_hash, password):
            if attempt >= LOCK_AFTER_FAILURES:
                self._store.lock(row.staff.id, until=now + LOCKOUT)
            _log.warning("login refused: wrong password for staff %d", row.staff.id)
            raise LoginFailedError()
        self._store.record_login(row.staff.id)  # 4
        if self._hashing.needs_rehash(row.password_hash):
            self._store.set_password(row.staff.id, self._hashing.hash(password))
        token = secrets.token_urlsafe(TOKEN_BYTES)
        session = StaffSession(
            staff=row.staff, csrf_token=secrets.token_urlsafe(TOKEN_BYTES), expires_at=now + SESSION_LIFETIME
        )
        self._store.open_session(
            token_hash=_token_hash(token),
            staff_id=row.staff.id,
            csrf_token=session.csrf_token,
            at=now,
            expires_at=session.expires_at,
        )
        _log.info("staff %d logged in", row.staff.id)
        return token, session

    def session(self, token: str | None) -> StaffSession:
        """The live session of TOKEN (the cookie), or SessionRequiredError (none, unknown, expired, disabled)."""
        if not token:
            raise SessionRequiredError()
        row = self._store.fetch_session(_token_hash(token))
        if row is None or row.expires_at <= self._clock.now() or row.staff.disabled:
            raise SessionRequiredError()
        return StaffSession(staff=row.staff, csrf_token=row.csrf_token, expires_at=row.expires_at)

    def logout(self, token: str | None) -> None:
        if token:
            self._store.close_session(_token_hash(token))
