"""Staff passwords are hashed with Argon2id and checked in constant time; roles include the ones below them."""

from __future__ import annotations

import datetime as dt
import threading
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


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_guesses_sent_at_once_get_no_more_tries_than_guesses_sent_one_by_one(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """An online guesser sends many passwords at the same moment: each reads the account unlocked while the
    others are still being verified. No more than LOCK_AFTER_FAILURES of them may reach the password check,
    and the account is locked after them, on a server database as on SQLite."""
    url = (
        f"sqlite:///{tmp_path / 'console.sqlite3'}"
        if backend == "sqlite"
        else request.getfixturevalue("postgres_schema_url")
    )
    store = SqlConsoleStore.from_url(url)
    clock = FixedClock(dt.datetime(2026, 11, 27, 10, 0, tzinfo=JST))
    checked: list[str] = []

    class Counting(PasswordHashing):
        def verify(self, encoded: str, password: str) -> bool:
            checked.append(encoded)  # the account's hash, or the stand-in a refused attempt spends its time on
            return super().verify(encoded, password)

    service = ConsoleAccess(store=store, clock=clock, hashing=Counting(FAST))
    service.add_staff(login="sato", role=StaffRole.SUPERVISOR, password=PASSWORD)
    guesses = 4 * LOCK_AFTER_FAILURES
    barrier = threading.Barrier(guesses)
    refused: list[BaseException] = []

    def guess(n: int) -> None:
        barrier.wait()
        try:
            service.login(login="sato", password=f"guess number {n:04d}")
        except LoginFailedError as exc:
            refused.append(exc)

    try:
        threads = [threading.Thread(target=guess, args=(n,)) for n in range(guesses)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(refused) == guesses
        row = store.fetch_staff_for_login("sato")
        assert row is not None
        assert checked.count(row.password_hash) == LOCK_AFTER_FAILURES, len(checked)
        with pytest.raises(LoginFailedError):  # locked: even the right password is refused now
            service.login(login="sato", password=PASSWORD)
        clock.advance(LOCKOUT)
        _token, session = service.login(login="sato", password=PASSWORD)
        assert session.staff.login == "sato"
    finally:
        store.dispose()
