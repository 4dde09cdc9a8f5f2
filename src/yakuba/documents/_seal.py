"""Seal images drawn by our code: the city's square 公印 and a resident's round registered seal (印影)."""

from __future__ import annotations

import hashlib
import io
import math
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

__all__ = ["SEAL_INK", "city_seal_png", "personal_seal_png"]

SEAL_INK = (204, 32, 40)
"""Vermilion seal ink (朱肉), as printed by a colour kiosk printer."""

CITY_SEAL_PIXELS = 240
"""Side of the city seal image: ~250 dpi at its 24 mm print size, the resolution of a kiosk printer."""

PERSONAL_SEAL_PIXELS = 300
"""Diameter of a registered-seal impression image (printed 15-18 mm wide)."""

_SUPERSAMPLE = 3
"""Drawn this many times larger, then reduced: smooth edges without a vector pipeline."""

_SEAL_ALPHA = 0.88
"""Seal ink lets the mayor's name underneath show through, as a stamp over printed text does."""


def _glyph(char: str, font: ImageFont.FreeTypeFont) -> Image.Image:
    """One character as a tight grey mask, so it can be stretched to fill its cell like a carved seal."""
    left, top, right, bottom = font.getbbox(char)
    width, height = max(1, round(right - left)), max(1, round(bottom - top))
    canvas = Image.new("L", (width + 4, height + 4), 0)
    ImageDraw.Draw(canvas).text((2 - left, 2 - top), char, font=font, fill=255)
    box = canvas.getbbox()
    return canvas.crop(box) if box else canvas


def _columns(count: int) -> list[int]:
    """How many characters each column holds, right column first (seals read top-down, right to left)."""
    columns = max(1, math.ceil(math.sqrt(count)))
    base, extra = divmod(count, columns)
    return [base + (1 if index < extra else 0) for index in range(columns)]


def _weathered(mask: Image.Image, *, seed: bytes) -> Image.Image:
    """Ink texture: small unevenly inked spots and softened edges, deterministic per seal text."""
    rng = random.Random(hashlib.sha256(seed).digest())  # noqa: S311 - ink texture, not a secret
    holes = Image.new("L", mask.size, 255)
    draw = ImageDraw.Draw(holes)
    side = mask.size[0]
    for _ in range(side // 6):
        x, y = rng.uniform(0, side), rng.uniform(0, mask.size[1])
        radius = rng.uniform(side * 0.002, side * 0.006)
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=rng.randint(40, 160))
    inked = Image.composite(mask, Image.new("L", mask.size, 0), holes)
    return inked.filter(ImageFilter.GaussianBlur(radius=side * 0.0015))


def _to_png(mask: Image.Image, size: int) -> bytes:
    small = mask.resize((size, size), Image.Resampling.LANCZOS)
    alpha = small.point(lambda value: int(value * _SEAL_ALPHA))
    image = Image.new("RGBA", small.size, (*SEAL_INK, 0))
    image.putalpha(alpha)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def city_seal_png(mayor_title: str, *, font_file: Path) -> bytes:
    """The city seal: a red square with `<mayor_title>之印` carved in thick, cell-filling letters.

    Seal script (篆書) is approximated by a heavy gothic face stretched to fill each cell of the grid,
    with uniform thick strokes and a heavy border, as official seals look; drawn, never copied.
    """
    text = f"{mayor_title}之印"
    side = CITY_SEAL_PIXELS * _SUPERSAMPLE
    border = round(side * 0.055)
    inner_gap = round(side * 0.03)
    mask = Image.new("L", (side, side), 0)
    draw = ImageDraw.Draw(mask)
    draw.rectangle((0, 0, side - 1, side - 1), fill=255)
    draw.rectangle((border, border, side - 1 - border, side - 1 - border), fill=0)
    font = ImageFont.truetype(str(font_file), size=side // 2)
    area = side - 2 * (border + inner_gap)
    counts = _columns(len(text))
    column_width = area / len(counts)
    stroke = ImageFilter.MaxFilter(_odd(side * 0.02))
    index = 0
    for column, count in enumerate(counts):
        cell_height = area / count
        x0 = side - border - inner_gap - (column + 1) * column_width
        for row in range(count):
            glyph = _glyph(text[index], font)
            index += 1
            pad = column_width * 0.05
            width = round(column_width - 2 * pad)
            height = round(cell_height - 2 * pad)
            shaped = glyph.resize((width, height), Image.Resampling.BICUBIC).filter(stroke)
            y0 = border + inner_gap + row * cell_height
            mask.paste(255, (round(x0 + pad), round(y0 + pad)), shaped)
    return _to_png(_weathered(mask, seed=text.encode()), CITY_SEAL_PIXELS)


def personal_seal_png(surname: str, *, font_file: Path) -> bytes:
    """A round registered seal (実印) with the surname in one column, as residents register them."""
    side = PERSONAL_SEAL_PIXELS * _SUPERSAMPLE
    ring = round(side * 0.055)
    mask = Image.new("L", (side, side), 0)
    draw = ImageDraw.Draw(mask)
    draw.ellipse((0, 0, side - 1, side - 1), fill=255)
    draw.ellipse((ring, ring, side - 1 - ring, side - 1 - ring), fill=0)
    font = ImageFont.truetype(str(font_file), size=side // 2)
    count = max(1, len(surname))
    usable_height = side * 0.70
    cell = usable_height / count
    width = round(side * 0.42)
    top = (side - usable_height) / 2
    for row, char in enumerate(surname):
        glyph = _glyph(char, font)
        shaped = glyph.resize((width, round(cell * 0.92)), Image.Resampling.BICUBIC)
        shaped = shaped.filter(ImageFilter.MaxFilter(_odd(side * 0.01)))
        mask.paste(255, (round((side - width) / 2), round(top + row * cell + cell * 0.04)), shaped)
    return _to_png(_weathered(mask, seed=surname.encode()), PERSONAL_SEAL_PIXELS)


def _odd(value: float) -> int:
    size = max(3, round(value))
    return size if size % 2 else size + 1
