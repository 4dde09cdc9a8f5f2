"""Database engines for every role: SQLite files by default, PostgreSQL by URL; one unit of work per change."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, DateTime, Dialect, Engine, TypeDecorator, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from yakuba.errors import StoreError

__all__ = [
    "SCHEMA_LOCK_KEY",
    "SQLITE_BUSY_TIMEOUT_MS",
    "UtcDateTime",
    "in_transaction",
    "lock_schema",
    "make_engine",
    "migrate",
    "run_migrations_env",
    "unit_of_work",
]

_T = TypeVar("_T")

SQLITE_BUSY_TIMEOUT_MS = 5000
"""How long a SQLite writer waits for another process's lock before failing (several processes share files)."""


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes in and out, on SQLite (naive UTC text) and PostgreSQL (timestamptz) alike.

    SQLite compares the stored text: one offset (UTC, naive) for every row keeps text order time order.
    A naive datetime is refused: its zone would be a guess.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a timestamp column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for URL; SQLite gets WAL, foreign keys and a busy timeout so several processes can share it."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    try:
        engine = create_engine(url, **kwargs)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise StoreError(f"cannot open database ({type(exc).__name__})") from exc
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cur.close()

    return engine


def in_transaction(engine: Engine, work: Callable[[Connection], _T], *, what: str) -> _T:
    """Run WORK in one transaction on ENGINE (commit, or roll back on any error); database errors become a
    StoreError naming WHAT (a store's name, never a value)."""
    try:
        with engine.begin() as conn:
            return work(conn)
    except SQLAlchemyError as exc:
        raise StoreError(f"{what} failed ({type(exc).__name__})") from exc


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error; database errors become StoreError."""
    session = factory()
    try:
        yield session
        session.commit()
    except SQLAlchemyError as exc:
        session.rollback()
        raise StoreError(f"database operation failed ({type(exc).__name__})") from exc
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


SCHEMA_LOCK_KEY = 0x79616B75
"""PostgreSQL advisory lock key under which every yakuba schema change of a database is serialised."""


_ALEMBIC = threading.Lock()
"""Alembic keeps the running migration in module globals (`alembic.context`): two threads of one process
migrating two databases at once read each other's connection ("table already exists"; found by the freshness
tests, two kiosks opening in one process). One migration at a time per process."""


def lock_schema(conn: Connection) -> None:
    """Take the database's lock for schema changes at the start of CONN's transaction, before anything is read.

    Several processes of one instance (`yakuba up --workers N`) start at once on one database: without it both
    read "no table yet" and the second CREATE TABLE fails (found by `yakuba torture`). On SQLite: BEGIN
    IMMEDIATE (the write lock; the other waits its busy timeout), which also puts the DDL in the transaction
    (pysqlite would otherwise run it outside one); on PostgreSQL an advisory lock held to the end of the
    transaction (one key for every component sharing the database: their migrations run one at a time).
    """
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    elif conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY})


def migrate(engine: Engine, *, script_location: Path, version_table: str, revision: str = "head") -> None:
    """Bring one component's tables up to REVISION with its Alembic scripts (linear, numbered, described).

    Each component (registry, audit, a role's store) has its own migrations folder and its own version
    table, so components sharing one database never step on each other's history.
    """
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.attributes["version_table"] = version_table
    try:
        with _ALEMBIC, engine.begin() as conn:
            lock_schema(conn)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    except SQLAlchemyError as exc:
        raise StoreError(f"database migration failed ({type(exc).__name__})") from exc


def run_migrations_env() -> None:
    """The body of every migrations folder's env.py: run online against the connection `migrate` passes."""
    from alembic import context

    cfg = context.config
    conn = cfg.attributes["connection"]
    context.configure(
        connection=conn,
        version_table=cfg.attributes["version_table"],
        render_as_batch=conn.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
