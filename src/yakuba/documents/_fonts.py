"""Where the IPAex fonts are found at run time; a clear error when they are not installed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from yakuba.documents.errors import FontNotFoundError

__all__ = ["FONT_DIRS", "FontSet"]

FONT_DIRS = (
    Path("/usr/share/fonts/opentype/ipaexfont-mincho"),
    Path("/usr/share/fonts/opentype/ipaexfont-gothic"),
)
"""Debian's fonts-ipaexfont: IPAex Mincho (body text, as city certificates use) and Gothic (headings)."""

MINCHO_FILE = "ipaexm.ttf"
GOTHIC_FILE = "ipaexg.ttf"


@dataclass(frozen=True, slots=True)
class FontSet:
    """The two font files every certificate embeds (as subsets)."""

    mincho: Path
    gothic: Path

    @classmethod
    def locate(cls, dirs: tuple[Path, ...] = FONT_DIRS) -> FontSet:
        """Find IPAex Mincho and Gothic in DIRS, or raise FontNotFoundError saying how to install them."""
        found: dict[str, Path] = {}
        for folder in dirs:
            for wanted in (MINCHO_FILE, GOTHIC_FILE):
                candidate = folder / wanted
                if candidate.is_file():
                    found.setdefault(wanted, candidate)
        missing = [name for name in (MINCHO_FILE, GOTHIC_FILE) if name not in found]
        if missing:
            raise FontNotFoundError(
                f"{', '.join(missing)} not found in {', '.join(str(d) for d in dirs)}; "
                "install the Debian package fonts-ipaexfont (apt-get install fonts-ipaexfont)",
                ja="IPAexフォントが見つかりません。apt-get install fonts-ipaexfont で導入してください",
            )
        return cls(mincho=found[MINCHO_FILE], gothic=found[GOTHIC_FILE])

    @property
    def folders(self) -> list[str]:
        return sorted({str(self.mincho.parent), str(self.gothic.parent)})
