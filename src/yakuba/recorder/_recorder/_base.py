"""What every part of the recorder shares: its database places, disk probe, audit log and transactions."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Connection, Engine

from yakuba.audit import Actor, AuditEntry, AuditLog, FieldValue, subject_key
from yakuba.clock import Clock
from yakuba.database import in_transaction
from yakuba.recorder.store import FootageStore

__all__ = [
    "DATABASE_URL",
    "LOG_NAME",
    "MIGRATIONS",
    "VERSION_TABLE",
    "FreeSpace",
    "RecorderBase",
    "disk_free",
]

_T = TypeVar("_T")

LOG_NAME = "recorder"
DATABASE_URL = "sqlite:///recorder.sqlite3"
"""The recorder's database, relative to the deployment's state folder (config keys belong to the lead)."""
MIGRATIONS = Path(__file__).parent.parent / "migrations"
VERSION_TABLE = "recorder_alembic_version"

FreeSpace = Callable[[Path], int]
"""Free bytes on the file system holding a path; injected so disk-full behaviour is testable."""


def disk_free(path: Path) -> int:
    return shutil.disk_usage(path).free


class RecorderBase:
    """Holds the recorder's seams (database, footage store, audit log, clock, disk probe); subclasses add one area."""

    def __init__(
        self,
        *,
        engine: Engine,
        footage: FootageStore,
        log: AuditLog,
        subject_secret: bytes,
        clock: Clock,
        free_space: FreeSpace = disk_free,
    ) -> None:
        self.engine = engine
        self.footage = footage
        self.log = log
        self.clock = clock
        self.free_space = free_space
        self._secret = subject_secret

    # -- audit -----------------------------------------------------------------------------------------

    def subject(self, kind: str, value: str) -> str:
        return subject_key(self._secret, kind, value)

    def audit(
        self, conn: Connection, event: str, *, staff_id: str | None, subject: str | None, fields: dict[str, FieldValue]
    ) -> None:
        actor = Actor(role="recorder", instance=LOG_NAME, staff_id=staff_id)
        self.log.append(
            conn, AuditEntry(event_type=event, actor=actor, time=self.clock.now(), subject=subject, fields=fields)
        )

    def _tx(self, work: Callable[[Connection], _T], what: str) -> _T:
        return in_transaction(self.engine, work, what=what)
