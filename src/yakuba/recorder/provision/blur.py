"""Finding faces and number plates in a frame (OpenCV Haar cascades) and blurring exactly those regions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from yakuba.errors import ConfigError

__all__ = [
    "BLUR_KERNEL_DIVISOR",
    "DETECT_WIDTH",
    "FACE_CASCADE",
    "PLATE_CASCADE",
    "Blurrer",
    "Detector",
    "Region",
    "blur_regions",
]

Image = npt.NDArray[np.uint8]

FACE_CASCADE = "haarcascade_frontalface_default.xml"
PLATE_CASCADE = "haarcascade_russian_plate_number.xml"
"""Shipped in OpenCV 4.x wheels only (5.x dropped them); the plate model is trained on Russian plates and is
weak on Japanese ones, so a person reviews every flagged frame before release."""

DETECT_WIDTH = 640
"""Detection runs on a copy scaled to this width: Haar cascades at full 1080p cost ~4x more for faces that a
truck camera sees at this size anyway; regions are scaled back before blurring."""

BLUR_KERNEL_DIVISOR = 3
"""The blur kernel is a third of the region's smaller side: enough that a face or plate is unreadable."""

MIN_DETECT_PIXELS = 24
"""Haar cascades are trained on 24x24 windows; nothing smaller is looked for."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Region:
    """A rectangle of a frame in full-resolution pixels, and what was found there ("face", "plate", "manual")."""

    x: int
    y: int
    w: int
    h: int
    kind: str


class Detector:
    """Face and plate cascades, loaded once; `detect` is pure given the frame."""

    def __init__(self, *, cascades: Sequence[tuple[str, cv2.CascadeClassifier]]) -> None:
        self._cascades = tuple(cascades)

    @classmethod
    def from_opencv(cls, *, faces: bool = True, plates: bool = True) -> Detector:
        """The cascades shipped in the OpenCV wheel (`cv2.data.haarcascades`); nothing is downloaded."""
        folder = Path(cv2.data.haarcascades)  # type: ignore[attr-defined]
        chosen = [("face", FACE_CASCADE)] if faces else []
        chosen += [("plate", PLATE_CASCADE)] if plates else []
        loaded: list[tuple[str, cv2.CascadeClassifier]] = []
        for kind, name in chosen:
            classifier = cv2.CascadeClassifier(str(folder / name))
            if classifier.empty():
                raise ConfigError(f"the OpenCV cascade {name} is missing: install opencv-python-headless 4.x")
            loaded.append((kind, classifier))
        return cls(cascades=loaded)

    def detect(self, image: Image) -> list[Region]:
        height, width = image.shape[:2]
        scale = min(1.0, DETECT_WIDTH / width)
        small = cv2.resize(image, (round(width * scale), round(height * scale))) if scale < 1.0 else image
        gray = cv2.equalizeHist(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY))
        found: list[Region] = []
        for kind, cascade in self._cascades:
            boxes = cascade.detectMultiScale(
                gray, scaleFactor=1.1, minNeighbors=4, minSize=(MIN_DETECT_PIXELS, MIN_DETECT_PIXELS)
            )
            for x, y, w, h in boxes:
                found.append(Region(x=int(x / scale), y=int(y / scale), w=int(w / scale), h=int(h / scale), kind=kind))
        return found


def blur_regions(image: Image, regions: Sequence[Region]) -> Image:
    """A copy of IMAGE with each region blurred beyond recognition; every pixel outside them is unchanged."""
    out = image.copy()
    height, width = image.shape[:2]
    for r in regions:
        x0, y0 = max(0, r.x), max(0, r.y)
        x1, y1 = min(width, r.x + r.w), min(height, r.y + r.h)
        if x1 <= x0 or y1 <= y0:
            continue
        side = max(3, (min(x1 - x0, y1 - y0) // BLUR_KERNEL_DIVISOR) | 1)
        roi = out[y0:y1, x0:x1]
        out[y0:y1, x0:x1] = cv2.GaussianBlur(cv2.GaussianBlur(roi, (side, side), 0), (side, side), 0)
    return out


class Blurrer:
    """Detect, then blur, frame by frame; returns the regions so the frame can be flagged for review."""

    def __init__(self, *, detector: Detector) -> None:
        self.detector = detector

    def process(self, image: Image) -> tuple[Image, list[Region]]:
        regions = self.detector.detect(image)
        return (blur_regions(image, regions) if regions else image), regions
