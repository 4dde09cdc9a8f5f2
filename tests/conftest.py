"""Fixtures shared by the whole suite: a sample deployment, the PostgreSQL server."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
"""The PostgreSQL every developer machine and CI has (trust auth, database `test`)."""

POSTGRES_START_WAIT_S = 30
"""How long to wait for a PostgreSQL server we started to accept connections."""


def _postgres_listening() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The PostgreSQL URL; starts the local server if it is down, fails (never skips) if it cannot."""
    if not _postgres_listening():
        pg_ctl = shutil.which("pg_ctlcluster")
        versions = sorted(p.name for p in Path("/etc/postgresql").glob("*")) if Path("/etc/postgresql").is_dir() else []
        if pg_ctl and versions:
            subprocess.run(
                [pg_ctl, "--skip-systemctl-redirect", versions[-1], "main", "start"],
                check=False,
                capture_output=True,
            )
        deadline = time.monotonic() + POSTGRES_START_WAIT_S
        while not _postgres_listening() and time.monotonic() < deadline:
            time.sleep(0.2)
    if not _postgres_listening():
        pytest.fail("PostgreSQL is not running on 127.0.0.1:5432 and could not be started")
    return POSTGRES_URL


@pytest.fixture
def postgres_schema_url(postgres_url: str) -> Iterator[str]:
    """A URL whose connections use a fresh schema of their own, dropped afterwards."""
    from sqlalchemy import create_engine, text

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://"))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{postgres_url}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
