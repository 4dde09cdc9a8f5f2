"""Drawing a seal impression (印影) as a small PNG: a red ring with the surname written top to bottom."""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

__all__ = ["IMPRESSION_SIZE_PX", "draw_impression"]

IMPRESSION_SIZE_PX = 96
"""About 15 mm at 160 dpi: a registered seal is 8-25 mm across; this keeps each image near 2 KB."""

SEAL_RED = (200, 30, 30, 255)

_FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf",
    "/usr/share/fonts/truetype/fonts-japanese-mincho.ttf",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)


@lru_cache(maxsize=4)
def _font(size: int) -> ImageFont.FreeTypeFont | None:
    for candidate in _FONT_CANDIDATES:
        if Path(candidate).is_file():
            return ImageFont.truetype(candidate, size)
    return None


def draw_impression(surname: str) -> bytes:
    """A PNG impression of SURNAME; without a Japanese font installed, a ring with a pattern derived from it."""
    size = IMPRESSION_SIZE_PX
    image = Image.new("RGBA", (size, size), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((3, 3, size - 4, size - 4), outline=SEAL_RED, width=5)
    chars = surname[:3] or "印"
    step = (size - 24) // len(chars)
    font = _font(step)
    for i, char in enumerate(chars):
        y = 12 + i * step + step // 2
        if font is not None:
            draw.text((size // 2, y), char, fill=SEAL_RED, font=font, anchor="mm")
        else:
            code = ord(char)
            for bit in range(8):
                if code >> bit & 1:
                    x = 22 + bit * 7
                    draw.rectangle((x, y - step // 3, x + 4, y + step // 3), fill=SEAL_RED)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()
