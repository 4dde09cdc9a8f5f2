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

__all__ = ["COPY_CHUNK_BYTES", "FilesystemFootageStore", "FootageStore", "StoredObject"]

COPY_CHUNK_BYTES = 4 * 1024 * 1024
"""Read and hash in 4 MiB chunks: large enough that Python overhead vanishes next to the disk and SHA-256."""

READ_ONLY = stat.S_IRUSR | stat.S_IRGRP
"""Stored footage is read-only for its owner and group: nothing rewrites evidence in place."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredObject:
    sha256: str
    size_bytes: int
    already_stored: bool


class FootageStore(Protocol):
    """Where footage bytes live; the filesystem by default, an S3-compatible store behind the same calls."""

    def put_file(self, source: Path) -> StoredObject: ...

    def path_of(self, sha256: str) -> Path: ...

    def exists(self, sha256: str) -> bool: ...

    def erase(self, sha256: str) -> None: ...

    def keep_aside(self, source: Path, *, batch: str) -> Path: ...

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
        """Copy SOURCE in, hashing as it goes.

        1. Copy to a unique temporary file while hashing the same bytes (one read: what is hashed is what
           is stored), then fsync it.
        2. If an object with this hash exists, drop the copy (same content is stored once).
        3. Make the copy read-only and rename it into place: atomic, so a kill leaves either no object or
           a whole one, never a partial file under a valid name.
        """
        tmp = self._root / "tmp" / uuid.uuid4().hex
        digest = hashlib.sha256()
        size = 0
        try:
            with source.open("rb") as src, tmp.open("xb") as dst:  # step 1
                while chunk := src.read(COPY_CHUNK_BYTES):
                    digest.update(chunk)
                    dst.write(chunk)
                    size += len(chunk)
                dst.flush()
                os.fsync(dst.fileno())
            sha = digest.hexdigest()
            target = self.path_of(sha)
            if target.exists():  # step 2
                tmp.unlink()
                return StoredObject(sha256=sha, size_bytes=size, already_stored=True)
            target.parent.mkdir(exist_ok=True, mode=0o750)
            os.chmod(tmp, READ_ONLY)  # step 3
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return StoredObject(sha256=sha, size_bytes=size, already_stored=False)

    def erase(self, sha256: str) -> None:
        """Erase the object for good (no recycle bin: erased means gone); an absent object is already gone."""
        self.path_of(sha256).unlink(missing_ok=True)

    def keep_aside(self, source: Path, *, batch: str) -> Path:
        """Copy a file that failed its checks to `<root>/aside/<batch>/` so nothing is silently dropped."""
        folder = self._root / "aside" / batch
        folder.mkdir(parents=True, exist_ok=True, mode=0o750)
        target = folder / source.name
        shutil.copyfile(source, target)
        os.chmod(target, READ_ONLY)
        return target
