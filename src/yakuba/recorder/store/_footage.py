"""Write-once, content-addressed footage files: stored by SHA-256, read-only once written, same content once."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

__all__ = ["COPY_CHUNK_BYTES", "FilesystemFootageStore", "FootageStore", "StagedFile", "StoredObject"]

COPY_CHUNK_BYTES = 4 * 1024 * 1024
"""Read and hash in 4 MiB chunks: large enough that Python overhead vanishes next to the disk and SHA-256."""

READ_ONLY = stat.S_IRUSR | stat.S_IRGRP
"""Stored footage is read-only for its owner and group: nothing rewrites evidence in place."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredObject:
    sha256: str
    size_bytes: int
    already_stored: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class StagedFile:
    """A file copied into the store's scratch space and hashed, not yet under its content address."""

    path: Path
    sha256: str
    size_bytes: int


class FootageStore(Protocol):
    """Where footage bytes live; the filesystem by default, an S3-compatible store behind the same calls."""

    def put_file(self, source: Path) -> StoredObject: ...

    def stage(self, source: Path) -> StagedFile: ...

    def commit(self, staged: StagedFile) -> StoredObject: ...

    def set_aside(self, staged: StagedFile, *, batch: str, name: str) -> Path: ...

    def discard(self, staged: StagedFile) -> None: ...

    def discard_orphans(self) -> int: ...

    def path_of(self, sha256: str) -> Path: ...

    def exists(self, sha256: str) -> bool: ...

    def erase(self, sha256: str) -> None: ...

    def keep_aside(self, source: Path, *, batch: str, name: str | None = None) -> Path: ...

    @property
    def root(self) -> Path: ...


class FilesystemFootageStore:
    """`<root>/objects/<aa>/<sha256>` files, written through `<root>/tmp` and renamed into place."""

    def __init__(self, *, root: Path) -> None:
        self._root = root
        for sub in ("objects", "tmp", "aside"):
            (root / sub).mkdir(parents=True, exist_ok=True, mode=0o750)

    @property
    def root(self) -> Path:
        return self._root

    def path_of(self, sha256: str) -> Path:
        return self._root / "objects" / sha256[:2] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path_of(sha256).exists()

    def put_file(self, source: Path) -> StoredObject:
        """Copy SOURCE in, hashing as it goes (stage, then commit)."""
        return self.commit(self.stage(source))

    def stage(self, source: Path) -> StagedFile:
        """Copy SOURCE to a unique scratch file while hashing the same bytes, then fsync it.

        One read of the source: what is hashed is what is stored, and checks that follow read the staged
        copy (from the page cache), not the card again.
        """
        tmp = self._root / "tmp" / f"{os.getpid()}-{uuid.uuid4().hex}"
        digest = hashlib.sha256()
        size = 0
        try:
            with source.open("rb") as src, tmp.open("xb") as dst:
                while chunk := src.read(COPY_CHUNK_BYTES):
                    digest.update(chunk)
                    dst.write(chunk)
                    size += len(chunk)
                dst.flush()
                os.fsync(dst.fileno())
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return StagedFile(path=tmp, sha256=digest.hexdigest(), size_bytes=size)

    def commit(self, staged: StagedFile) -> StoredObject:
        """Put a staged file under its content address.

        1. If an object with this hash exists, drop the copy (same content is stored once).
        2. Make the copy read-only and rename it into place: atomic, so a kill leaves either no object or
           a whole one, never a partial file under a valid name.
        """
        target = self.path_of(staged.sha256)
        try:
            if target.exists():  # step 1
                staged.path.unlink()
                return StoredObject(sha256=staged.sha256, size_bytes=staged.size_bytes, already_stored=True)
            target.parent.mkdir(exist_ok=True, mode=0o750)
            os.chmod(staged.path, READ_ONLY)  # step 2
            os.replace(staged.path, target)
        except BaseException:
            staged.path.unlink(missing_ok=True)
            raise
        return StoredObject(sha256=staged.sha256, size_bytes=staged.size_bytes, already_stored=False)

    def set_aside(self, staged: StagedFile, *, batch: str, name: str) -> Path:
        """Move a staged file that failed its checks to `<root>/aside/<batch>/NAME` (no second copy)."""
        folder = self._root / "aside" / batch
        folder.mkdir(parents=True, exist_ok=True, mode=0o750)
        target = folder / name
        os.chmod(staged.path, READ_ONLY)
        os.replace(staged.path, target)
        return target

    def discard(self, staged: StagedFile) -> None:
        """Drop a staged copy nobody will commit (an ingest stopped before reaching it)."""
        staged.path.unlink(missing_ok=True)

    def discard_orphans(self) -> int:
        """Drop scratch copies left by a process that is gone (an ingest killed mid-file); those of a live
        process (another ingest running now) stay. Returns how many were dropped."""
        dropped = 0
        for path in (self._root / "tmp").iterdir():
            owner, _sep, _rest = path.name.partition("-")
            if owner.isdigit() and _process_alive(int(owner)):
                continue
            path.unlink(missing_ok=True)
            dropped += 1
        return dropped

    def erase(self, sha256: str) -> None:
        """Erase the object for good (no recycle bin: erased means gone); an absent object is already gone."""
        self.path_of(sha256).unlink(missing_ok=True)

    def keep_aside(self, source: Path, *, batch: str, name: str | None = None) -> Path:
        """Copy a file that failed its checks to `<root>/aside/<batch>/` so nothing is silently dropped."""
        folder = self._root / "aside" / batch
        folder.mkdir(parents=True, exist_ok=True, mode=0o750)
        target = folder / (name or source.name)
        shutil.copyfile(source, target)
        os.chmod(target, READ_ONLY)
        return target


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True
