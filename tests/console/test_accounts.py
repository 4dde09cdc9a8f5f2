"""Staff passwords are hashed with Argon2id and checked in constant time; roles include the ones below them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from yakuba.clock import JST, FixedClock
from yakuba.console.accounts import MIN_PASSWORD_CHARS, PasswordHashing, StaffRole
from yakuba.console.errors import LoginFailedError, SessionRequiredError, StaffExistsError
from yakuba.console.service import LOCK_AFTER_FAILURES, LOCKOUT, SESSION_LIFETIME, ConsoleAccess
from yakuba.console.store import SqlConsoleStore
from yakuba.errors import ValidationError

PASSWORD = "a long enough passphrase"

# Test-speed parameters (RFC 9106's floor is for production); the production defaults are checked separately.
FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def test_password_hash_is_argon2id_salted_and_verifies_only_the_right_password() -> None:
    hashing = PasswordHashing()
    first, second = hashing.hash(PASSWORD), hashing.hash(PASSWORD)
    assert first.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert first != second  # a fresh salt each time
    assert PASSWORD not in first
    assert hashing.verify(first, PASSWORD)
    assert not hashing.verify(first, PASSWORD + "x")
    assert not hashing.verify("not a hash", PASSWORD)


def test_short_passwords_are_refused_and_weaker_hashes_are_marked_for_rehash() -> None:
    with pytest.raises(ValidationError):
        PasswordHashing().hash("x" * (MIN_PASSWORD_CHARS - 1))
    weak = PasswordHashing(FAST).hash(PASSWORD)
    assert PasswordHashing().needs_rehash(weak)
    assert not PasswordHashing().needs_rehash(PasswordHashing().hash(PASSWORD))


def test_each_role_includes_the_ones_below_it() -> None:
    assert StaffRole.SUPERVISOR.allows(StaffRole.OPERATOR)
    assert StaffRole.OPERATOR.allows(StaffRole.VIEWER)
    assert not StaffRole.VIEWER.allows(StaffRole.OPERATOR)
    assert not StaffRole.OPERATOR.allows(StaffRole.SUPERVISOR)


@pytest.fixture
def access(tmp_path: Path) -> tuple[ConsoleAccess, FixedClock, SqlConsoleStore]:
    clock = FixedClock(dt.datetime(2026, 11, 27, 10, 0, tzinfo=JST))
    store = SqlConsoleStore.from_url(f"sqlite:///{tmp_path / 'console.sqlite3'}")
    return ConsoleAccess(store=store, clock=clock, hashing=PasswordHashing(FAST)), clock, store


def test_the_store_keeps_only_the_hash_and_login_opens_a_session_that_ends(
    access: tuple[ConsoleAccess, FixedClock, SqlConsoleStore], tmp_path: Path
) -> None:
    service, clock, store = access
    service.add_staff(login="tanaka", role=StaffRole.OPERATOR, password=PASSWORD)
    with pytest.raises(StaffExistsError):
        service.add_staff(login="tanaka", role=StaffRole.VIEWER, password=PASSWORD)
    store.dispose()
    assert PASSWORD.encode() not in (tmp_path / "console.sqlite3").read_bytes()
    token, session = service.login(login="tanaka", password=PASSWORD)
    assert session.staff.role is StaffRole.OPERATOR
    assert token.encode() not in (tmp_path / "console.sqlite3").read_bytes()  # only its hash is stored
    assert service.session(token).csrf_token == session.csrf_token
    clock.advance(SESSION_LIFETIME)
    with pytest.raises(SessionRequiredError):
        service.session(token)
    token, _ = service.login(login="tanaka", password=PASSWORD)
    service.logout(token)
    with pytest.raises(SessionRequiredError):
        service.session(token)
    with pytest.raises(SessionRequiredError):
        service.session(None)


def test_wrong_passwords_lock_the_account_and_the_answer_never_says_so(
    access: tuple[ConsoleAccess, FixedClock, SqlConsoleStore],
) -> None:
    service, clock, _store = access
    service.add_staff(login="suzuki", role=StaffRole.VIEWER, password=PASSWORD)
    with pytest.raises(LoginFailedError):
        service.login(login="nobody", password=PASSWORD)
    for _ in range(LOCK_AFTER_FAILURES):
        with pytest.raises(LoginFailedError):
            service.login(login="suzuki", password="wrong password!!")
    with pytest.raises(LoginFailedError) as locked:
        service.login(login="suzuki", password=PASSWORD)
    assert locked.value.code == LoginFailedError.code  # the same answer as a wrong password
    clock.advance(LOCKOUT)
    _token, session = service.login(login="suzuki", password=PASSWORD)
    assert session.staff.login == "suzuki"
