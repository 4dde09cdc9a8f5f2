"""The JPKI status service's persistence: the CA's published files, and its table of daily query counts."""

from __future__ import annotations

import threading
from pathlib import Path

from cryptography import x509
from sqlalchemy import Column, Date, Engine, Integer, MetaData, String, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from yakuba.config import Deployment
from yakuba.database import migrate
from yakuba.errors import StoreError
from yakuba.jpki.service import CrlSnapshot, QueryTally, snapshot_of
from yakuba.pki import CrlWatcher, card_was_issued

__all__ = ["MIGRATIONS", "VERSION_TABLE", "FileCaRecords", "SqlQueryLog", "status_queries_table"]

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "jpki_alembic_version"

_metadata = MetaData()

status_queries_table = Table(
    "status_queries",
    _metadata,
    # Counts only: which serials were asked about is never stored.
    Column("day", Date(), primary_key=True),
    Column("endpoint", String(16), primary_key=True),
    Column("queries", Integer(), nullable=False),
    Column("serials", Integer(), nullable=False),
    Column("revoked", Integer(), nullable=False),
)


class FileCaRecords:
    """The CRL and the register of issued cards as the JPKI stand-in publishes them in the key folder.

    The CRL is re-read as soon as its file changes (`yakuba pki revoke` replaces it atomically, so the
    inode, size or mtime moves): a revocation is served at once, and an unchanged file costs one stat.
    """

    def __init__(self, *, dep: Deployment) -> None:
        self._dep = dep
        self._crl = CrlWatcher(dep=dep)
        self._lock = threading.Lock()
        self._source: x509.CertificateRevocationList | None = None
        self._snapshot: CrlSnapshot | None = None

    def current_crl(self) -> CrlSnapshot:
        crl = self._crl.current()
        with self._lock:
            if self._snapshot is None or crl is not self._source:
                self._snapshot = snapshot_of(crl)
                self._source = crl
            return self._snapshot

    def was_issued(self, serial: str) -> bool:
        return card_was_issued(self._dep, serial)


class SqlQueryLog:
    """Daily counts of queries served, in the service's own database (SQLite or PostgreSQL)."""

    def __init__(self, *, engine: Engine) -> None:
        self._engine = engine

    def migrate(self) -> None:
        """Bring the tables up to date (Alembic, version table of its own)."""
        migrate(self._engine, script_location=MIGRATIONS, version_table=VERSION_TABLE)

    def record(self, tally: QueryTally) -> None:
        """Add one query to its day's row, atomically (several processes may count at once)."""
        dialect = self._engine.dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(status_queries_table).values(
            day=tally.day, endpoint=tally.endpoint, queries=1, serials=tally.serials, revoked=tally.revoked
        )
        c = status_queries_table.c
        statement = statement.on_conflict_do_update(
            index_elements=[c.day, c.endpoint],
            set_={
                "queries": c.queries + 1,
                "serials": c.serials + statement.excluded.serials,
                "revoked": c.revoked + statement.excluded.revoked,
            },
        )
        try:
            with self._engine.begin() as conn:
                conn.execute(statement)
        except SQLAlchemyError as exc:
            raise StoreError(f"counting the query failed ({type(exc).__name__})") from exc

    def counts(self) -> list[tuple[str, str, int, int, int]]:
        """Every day's counts: (day ISO, endpoint, queries, serials, revoked), oldest first."""
        c = status_queries_table.c
        try:
            with self._engine.connect() as conn:
                rows = conn.execute(status_queries_table.select().order_by(c.day, c.endpoint)).all()
        except SQLAlchemyError as exc:
            raise StoreError(f"reading the query counts failed ({type(exc).__name__})") from exc
        return [(row.day.isoformat(), row.endpoint, row.queries, row.serials, row.revoked) for row in rows]
