"""The recorder as one object: fleet, media ledger, holds, viewing and the retention sweep, each change audited."""

from __future__ import annotations

from pathlib import Path

from yakuba.audit import AuditLog, create_log_keys, load_subject_secret, log_origin
from yakuba.clock import Clock, SystemClock
from yakuba.config import Deployment
from yakuba.database import make_engine, migrate
from yakuba.recorder._recorder._base import (
    DATABASE_URL,
    LOG_NAME,
    MIGRATIONS,
    VERSION_TABLE,
    FreeSpace,
    disk_free,
)
from yakuba.recorder._recorder._holds import HoldSteps
from yakuba.recorder._recorder._ledger import LedgerSteps
from yakuba.recorder._recorder._sweep import SWEEP_BATCH, SweepReport, SweepSteps
from yakuba.recorder._recorder._viewing import ViewingSteps
from yakuba.recorder.store import FilesystemFootageStore

__all__ = [
    "DATABASE_URL",
    "LOG_NAME",
    "MIGRATIONS",
    "SWEEP_BATCH",
    "VERSION_TABLE",
    "FreeSpace",
    "Recorder",
    "SweepReport",
]


class Recorder(LedgerSteps, HoldSteps, ViewingSteps, SweepSteps):
    """Footage for one deployment: its own database (with its audit log), footage store, clock and disk probe."""

    @classmethod
    def open(
        cls,
        *,
        database_url: str,
        footage_root: Path,
        key_dir: Path,
        origin: str,
        clock: Clock | None = None,
        free_space: FreeSpace = disk_free,
    ) -> Recorder:
        """Open (migrating, and creating keys on first use) the recorder at explicit places."""
        engine = make_engine(database_url)
        migrate(engine, script_location=MIGRATIONS, version_table=VERSION_TABLE)
        create_log_keys(key_dir=key_dir, log_name=LOG_NAME, origin=origin)
        log = AuditLog.open(engine=engine, origin=origin)
        return cls(
            engine=engine,
            footage=FilesystemFootageStore(root=footage_root),
            log=log,
            subject_secret=load_subject_secret(key_dir=key_dir, log_name=LOG_NAME),
            clock=clock or SystemClock(),
            free_space=free_space,
        )

    @classmethod
    def from_deployment(
        cls,
        dep: Deployment,
        *,
        database_url: str | None = None,
        footage_root: Path | None = None,
        clock: Clock | None = None,
        free_space: FreeSpace = disk_free,
    ) -> Recorder:
        """The deployment's recorder: `recorder.sqlite3` and `footage/` in its state folder unless overridden."""
        return cls.open(
            database_url=dep.database_url(database_url or DATABASE_URL),
            footage_root=footage_root or dep.state_dir / "footage",
            key_dir=dep.key_dir,
            origin=log_origin(dep, LOG_NAME),
            clock=clock,
            free_space=free_space,
        )
