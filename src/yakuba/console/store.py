"""The console's own database: staff accounts and server-side sessions (SQLAlchemy Core, SQLite or PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Engine,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    RowMapping,
    String,
    Table,
    Update,
    delete,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from yakuba.console.accounts import Staff, StaffRole
from yakuba.console.errors import StaffExistsError, StaffNotFoundError
from yakuba.database import UtcDateTime, in_transaction, make_engine, migrate
from yakuba.errors import StoreError

__all__ = ["MIGRATIONS", "VERSION_TABLE", "SessionRow", "SqlConsoleStore", "StaffRow"]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "console_alembic_version"

_T = TypeVar("_T")

_metadata = MetaData()

staff_table = Table(
    "console_staff",
    _metadata,
    Column("id", Integer(), primary_key=True, autoincrement=True),
    Column("login", String(40), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("failed_logins", Integer(), nullable=False, default=0),
    Column("locked_until", UtcDateTime(), nullable=True),
    Column("disabled", Boolean(), nullable=False, default=False),
)

sessions_table = Table(
    "console_sessions",
    _metadata,
    # SHA-256 of the cookie's token: a copy of the database does not give anyone a session.
    Column("token_hash", LargeBinary(32), primary_key=True),
    Column("staff_id", Integer(), ForeignKey("console_staff.id"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
)


class StaffRow:
    """A staff account with what login needs: its hash and lockout state."""

    __slots__ = ("failed_logins", "locked_until", "password_hash", "staff")

    def __init__(
        self, *, staff: Staff, password_hash: str, failed_logins: int, locked_until: dt.datetime | None
    ) -> None:
        self.staff = staff
        self.password_hash = password_hash
        self.failed_logins = failed_logins
        self.locked_until = locked_until


class SessionRow:
    """A live session: whose, its CSRF token, when it ends."""

    __slots__ = ("csrf_token", "expires_at", "staff")

    def __init__(self, *, staff: Staff, csrf_token: str, expires_at: dt.datetime) -> None:
        self.staff = staff
        self.csrf_token = csrf_token
        self.expires_at = expires_at


def _staff(row: RowMapping) -> Staff:
    return Staff(
        id=int(row["id"]),
        login=row["login"],
        role=StaffRole(row["role"]),
        created_at=row["created_at"],
        disabled=bool(row["disabled"]),
    )


def _locking(staff_id: int, until: dt.datetime) -> Update:
    return update(staff_table).where(staff_table.c.id == staff_id).values(failed_logins=0, locked_until=until)


class SqlConsoleStore:
    """Staff and sessions; every change is one short transaction."""

    def __init__(self, *, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def from_url(cls, url: str) -> SqlConsoleStore:
        """Open the database at URL and bring it to the newest migration."""
        store = cls(engine=make_engine(url))
        migrate(store.engine, script_location=MIGRATIONS, version_table=VERSION_TABLE)
        return store

    def dispose(self) -> None:
        self.engine.dispose()

    def _run(self, work: Callable[[Connection], _T], what: str) -> _T:
        return in_transaction(self.engine, work, what=what)

    def add_staff(self, *, login: str, role: StaffRole, password_hash: str, at: dt.datetime) -> Staff:
        values = {"login": login, "role": role.value, "password_hash": password_hash, "created_at": at}

        def work(conn: Connection) -> Staff:
            new_id = conn.execute(insert(staff_table).values(**values)).inserted_primary_key
            assert new_id is not None
            return Staff(id=int(new_id[0]), login=login, role=role, created_at=at)

        try:
            return self._run(work, "add staff")
        except StoreError as exc:
            if isinstance(exc.__cause__, IntegrityError):  # the login name is unique
                raise StaffExistsError() from None
            raise

    def set_password(self, staff_id: int, password_hash: str) -> None:
        statement = update(staff_table).where(staff_table.c.id == staff_id).values(password_hash=password_hash)
        self._run(lambda conn: conn.execute(statement), "set password")

    def fetch_staff_for_login(self, login: str) -> StaffRow | None:
        statement = select(staff_table).where(staff_table.c.login == login)
        row = self._run(lambda conn: conn.execute(statement).mappings().first(), "read staff")
        if row is None:
            return None
        return StaffRow(
            staff=_staff(row),
            password_hash=row["password_hash"],
            failed_logins=int(row["failed_logins"]),
            locked_until=row["locked_until"],
        )

    def change_staff(self, login: str, *, disabled: bool | None = None, password_hash: str | None = None) -> Staff:
        """Disable or enable LOGIN's account, or give it a new password hash, in one transaction that also ends
        every session of the account and clears its lock; StaffNotFoundError when no account has LOGIN."""
        values: dict[str, object] = {"failed_logins": 0, "locked_until": None}
        if disabled is not None:
            values["disabled"] = disabled
        if password_hash is not None:
            values["password_hash"] = password_hash

        def work(conn: Connection) -> Staff:
            changed = (
                conn.execute(
                    update(staff_table).where(staff_table.c.login == login).values(**values).returning(staff_table)
                )
                .mappings()
                .first()
            )
            if changed is None:
                raise StaffNotFoundError()
            conn.execute(delete(sessions_table).where(sessions_table.c.staff_id == changed["id"]))
            return _staff(changed)

        return self._run(work, "change staff")

    def list_staff(self) -> list[Staff]:
        statement = select(staff_table).order_by(staff_table.c.id)
        return [_staff(r) for r in self._run(lambda conn: list(conn.execute(statement).mappings()), "list staff")]

    def claim_login_attempt(
        self, staff_id: int, *, now: dt.datetime, lock_after: int, locked_until: dt.datetime
    ) -> int:
        """Count one more password attempt before it is checked, in one statement (concurrent attempts each get
        their own number, on PostgreSQL as on SQLite): its number in the run of failures, or 0 when the account
        is locked at NOW. The attempt past LOCK_AFTER locks the account until LOCKED_UNTIL and gets 0."""

        def work(conn: Connection) -> int:
            unlocked = or_(staff_table.c.locked_until.is_(None), staff_table.c.locked_until <= now)
            number = conn.execute(
                update(staff_table)
                .where(staff_table.c.id == staff_id, unlocked)
                .values(failed_logins=staff_table.c.failed_logins + 1)
                .returning(staff_table.c.failed_logins)
            ).scalar_one_or_none()
            if number is None:
                return 0
            if number > lock_after:
                conn.execute(_locking(staff_id, locked_until))
                return 0
            return int(number)

        return self._run(work, "count login attempt")

    def lock(self, staff_id: int, *, until: dt.datetime) -> None:
        """Lock the account until UNTIL, its run of failures starting again from zero after."""
        self._run(lambda conn: conn.execute(_locking(staff_id, until)), "lock account")

    def record_login(self, staff_id: int) -> None:
        statement = update(staff_table).where(staff_table.c.id == staff_id).values(failed_logins=0, locked_until=None)
        self._run(lambda conn: conn.execute(statement), "record login")

    def open_session(
        self, *, token_hash: bytes, staff_id: int, csrf_token: str, at: dt.datetime, expires_at: dt.datetime
    ) -> None:
        values = {
            "token_hash": token_hash,
            "staff_id": staff_id,
            "csrf_token": csrf_token,
            "created_at": at,
            "expires_at": expires_at,
        }

        def work(conn: Connection) -> None:
            conn.execute(delete(sessions_table).where(sessions_table.c.expires_at <= at))
            conn.execute(insert(sessions_table).values(**values))

        self._run(work, "open session")

    def fetch_session(self, token_hash: bytes) -> SessionRow | None:
        statement = (
            select(sessions_table.c.csrf_token, sessions_table.c.expires_at, staff_table)
            .join(staff_table, staff_table.c.id == sessions_table.c.staff_id)
            .where(sessions_table.c.token_hash == token_hash)
        )
        row = self._run(lambda conn: conn.execute(statement).mappings().first(), "read session")
        if row is None:
            return None
        return SessionRow(staff=_staff(row), csrf_token=row["csrf_token"], expires_at=row["expires_at"])

    def close_session(self, token_hash: bytes) -> None:
        statement = delete(sessions_table).where(sessions_table.c.token_hash == token_hash)
        self._run(lambda conn: conn.execute(statement), "close session")
