"""PostgreSQL for the shared instances of a run (`yakuba bench issuance --postgres`, `yakuba torture --postgres`):
one fresh database for the center and for every issuer, where their several worker processes meet as the
servers of a real deployment do, dropped afterwards. The other roles keep their SQLite files."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from typing import Any

from sqlalchemy import text

from yakuba.database import make_engine

__all__ = ["run_databases", "use_databases"]


def _shared_services(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The center's and every issuer's entry in deployment DATA (plain TOML data, as sample_deployment gives)."""
    return [data["center"], *(issuer for city in data["cities"] for issuer in city["issuers"])]


def use_databases(data: dict[str, Any], databases: dict[str, str]) -> None:
    """Point the instances named in DATABASES (instance -> URL) at their database in deployment DATA."""
    for service in _shared_services(data):
        if service["instance"] in databases:
            service["database"] = databases[service["instance"]]


@contextlib.contextmanager
def run_databases(server_url: str | None, data: dict[str, Any], *, run: str) -> Iterator[dict[str, str]]:
    """With SERVER_URL (postgresql://host:port, a role allowed to create databases): create one empty database
    per shared instance of deployment DATA, named after RUN ("bench", "torture"), and yield instance -> URL;
    drop them all on exit (every connection to them is closed by then: the role processes have stopped).
    Without it, yield nothing: every instance keeps its SQLite file."""
    if server_url is None:
        yield {}
        return
    base = server_url.rstrip("/")
    token = secrets.token_hex(4)
    names = {
        service["instance"]: f"yakuba_{run}_{token}_{service['instance'].replace('-', '_')}"
        for service in _shared_services(data)
    }
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
