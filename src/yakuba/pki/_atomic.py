"""Crash-safe file replacement and inter-process locks for the PKI's files."""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

__all__ = ["exclusive_lock", "write_atomic"]


def write_atomic(path: Path, data: bytes, *, mode: int) -> None:
    """Replace PATH with DATA so a reader sees the old or the new content, never a mix.

    1. Write to a temporary file in the same folder, created with MODE (never wider, even briefly).
    2. fsync it, so the rename below cannot expose an empty file after a crash.
    3. Rename it over PATH (atomic on POSIX), then fsync the folder so the rename itself survives.
    """
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    # Step 1: O_EXCL so a planted file or symlink at the temporary name is never followed.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    try:
        os.fchmod(fd, mode)  # the umask may have narrowed it; keep exactly MODE
        with os.fdopen(fd, "wb", closefd=False) as out:
            out.write(data)
            out.flush()
            os.fsync(fd)  # step 2
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)
    try:
        os.replace(tmp, path)  # step 3
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


@contextlib.contextmanager
def exclusive_lock(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive flock on LOCK_FILE (created 0600 if missing) for the duration of the block."""
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
