"""The kiosk's printer, simulated: one PDF file per copy in the kiosk's spool folder, with a paper-jam switch."""

from __future__ import annotations

import os
import re
from pathlib import Path

from yakuba.kiosk.errors import PaperJamError

__all__ = ["SPOOL_DIR_MODE", "SPOOL_FILE_MODE", "SpoolPrinter", "spool_name"]

SPOOL_DIR_MODE = 0o700
"""Only the kiosk's own user may list or read the spool: it holds certificates until they are taken."""

SPOOL_FILE_MODE = 0o600
"""A spooled copy is readable by the kiosk's user only."""

_TRANSACTION_ID = re.compile(r"tx-[0-9a-f]{32}")


def spool_name(transaction_id: str, copy: int) -> str:
    """The spool file of one copy: named by its transaction and copy number, never "latest" or a slot number,
    so no file name can ever decide whose document is printed (invariant 1)."""
    if not _TRANSACTION_ID.fullmatch(transaction_id) or not 1 <= copy <= 99:
        raise ValueError("malformed transaction id or copy number")
    return f"{transaction_id}-copy{copy:02d}.pdf"


class SpoolPrinter:
    """Prints into SPOOL_DIR; the copies numbered in JAM_COPIES jam (staff stamp them 無効 and destroy them)."""

    def __init__(self, *, spool_dir: Path, jam_copies: frozenset[int] = frozenset()) -> None:
        self._spool = spool_dir
        self._jam = jam_copies

    @property
    def spool_dir(self) -> Path:
        return self._spool

    @property
    def jammed(self) -> bool:
        """Whether the paper-jam switch is on for some copy number."""
        return bool(self._jam)

    def jam_on(self, *copies: int) -> None:
        """Flip the paper-jam switch for these copy numbers (of every following print)."""
        self._jam = frozenset(copies)

    def print_copy(self, document: bytes, *, transaction_id: str, copy: int) -> Path:
        """Print one copy and return its spool file; PaperJamError if that sheet jams (no file is left)."""
        target = self._spool / spool_name(transaction_id, copy)
        self._spool.mkdir(mode=SPOOL_DIR_MODE, parents=True, exist_ok=True)
        if copy in self._jam:
            target.unlink(missing_ok=True)
            raise PaperJamError()
        partial = target.with_suffix(".part")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, SPOOL_FILE_MODE)
        with os.fdopen(fd, "wb") as out:
            out.write(document)
        partial.replace(target)
        return target

    def discard(self, transaction_id: str) -> None:
        """Erase every spooled copy of TRANSACTION_ID (after it was taken, or when it is abandoned)."""
        if not _TRANSACTION_ID.fullmatch(transaction_id) or not self._spool.is_dir():
            return
        for path in self._spool.glob(f"{transaction_id}-copy*"):
            path.unlink(missing_ok=True)
