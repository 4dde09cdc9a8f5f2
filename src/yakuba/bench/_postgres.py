"""PostgreSQL for the center and the issuers of a run: one fresh database per instance, dropped afterwards."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator

from sqlalchemy import text

from yakuba.database import make_engine

__all__ = ["postgres_databases"]


@contextlib.contextmanager
def postgres_databases(server_url: str, instances: list[str]) -> Iterator[dict[str, str]]:
    """Create one empty database per instance on SERVER_URL (postgresql://host:port, a role allowed to create
    databases); yield instance -> database URL; drop them all on exit (every connection to them is closed by
    then: the role processes have stopped)."""
    base = server_url.rstrip("/")
    run = secrets.token_hex(4)
    names = {instance: f"yakuba_bench_{run}_{instance.replace('-', '_')}" for instance in instances}
    admin = make_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    created: list[str] = []
    try:
        with admin.connect() as conn:
            for name in names.values():
                conn.execute(text(f'CREATE DATABASE "{name}"'))
                created.append(name)
        yield {instance: f"{base}/{name}" for instance, name in names.items()}
    finally:
        with admin.connect() as conn:
            for name in created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
