"""The rendering engine: one reused typst compiler, fonts and seal images per process."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
import weakref
from pathlib import Path

import typst

from yakuba.documents._fonts import FontSet
from yakuba.documents._models import DocumentRequest, SealCertificateContent
from yakuba.documents._render import CertifiedView, png_as_svg
from yakuba.documents._seal import PERSONAL_SEAL_PIXELS, city_seal_png
from yakuba.errors import YakubaError

__all__ = ["MAIN_TEMPLATE", "TEMPLATE_DIR", "RenderEngine", "RenderError"]

TEMPLATE_DIR = Path(__file__).parent / "_templates"
"""The typst templates, shipped as package data (pyproject's `**/*.typ`)."""

MAIN_TEMPLATE = "main.typ"

SEAL_FOLDER = "seals"
"""The city seal PNGs, in the engine's working folder, named by their SHA-256."""

MEMORY_FOLDER = "/dev/shm"  # noqa: S108 - a private mkdtemp folder is made inside it
"""Where the working folder goes when the system has it: RAM, so the document being rendered never
reaches a disk (the folder is private to the process owner, 0700, and each input is removed after use)."""

FOLDER_PREFIX = "yakuba-typst-"
"""Working folders are `yakuba-typst-<pid>-<random>`: a later engine removes those of dead processes."""

INPUT_FOLDER = "input"
"""The document being rendered: `certified.json` (the certified view) and `images.json` (seal file, QR)."""

PDF_TAGS = False
"""No tagged-PDF structure tree: the certificate goes to a kiosk printer and is erased, never read on a
screen; the tree costs ~1 ms per document and makes the file larger."""


def _remove_orphans(parent: Path) -> None:
    """Remove working folders left by processes that are gone (killed, or exited without finalizers)."""
    for folder in parent.glob(f"{FOLDER_PREFIX}*-*"):
        pid = folder.name.removeprefix(FOLDER_PREFIX).split("-", 1)[0]
        if not pid.isdigit() or folder.stat().st_uid != os.getuid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except PermissionError:
            continue  # alive, someone else's


def _remove_folder(root: Path, owner: int) -> None:
    """Remove an engine's working folder, only in the process that made it (not in a forked child)."""
    if os.getpid() == owner:
        shutil.rmtree(root, ignore_errors=True)


class RenderError(YakubaError):
    """typst rejected a layout: a bug in a template, never the resident's fault."""

    code = "render_failed"


class RenderEngine:
    """The typst compiler, fonts and seal images, built once per process and reused for every document.

    The compiler works in a private folder holding a copy of the templates, the city seal PNGs and the
    document being rendered. typst reads a seal from a file once and keeps it decoded, where image bytes
    passed through `sys.inputs` (base64 in an SVG, the only way for strings) would be parsed again for
    every document; and the document's data in files leaves `sys.inputs` unchanged, where new inputs make
    typst rebuild its standard library and drop memoized work (~20 % of a render).
    """

    def __init__(self, *, compiler: typst.Compiler, fonts: FontSet, root: Path) -> None:
        self._compiler = compiler
        self._fonts = fonts
        self._root = root
        self._lock = threading.Lock()
        self._owner = os.getpid()
        self._seals: dict[str, tuple[bytes, str]] = {}

    @classmethod
    def create(cls, *, fonts: FontSet | None = None, system_fonts: bool = False) -> RenderEngine:
        """An engine with IPAex fonts only (no system font scan: faster start, same output everywhere).

        SYSTEM_FONTS also scans the system's fonts (typst's default; only the benchmark's baseline uses it).
        The engine's working folder is removed when the engine is garbage-collected or the process exits.
        """
        fonts = fonts or FontSet.locate()
        memory = Path(MEMORY_FOLDER)
        parent = memory if memory.is_dir() and os.access(memory, os.W_OK) else Path(tempfile.gettempdir())
        _remove_orphans(parent)
        root = Path(tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{os.getpid()}-", dir=parent))
        for template in TEMPLATE_DIR.glob("*.typ"):
            shutil.copyfile(template, root / template.name)
        (root / SEAL_FOLDER).mkdir()
        (root / INPUT_FOLDER).mkdir()
        compiler = typst.Compiler(
            str(root / MAIN_TEMPLATE),
            root=str(root),
            font_paths=fonts.folders,
            ignore_system_fonts=not system_fonts,
        )
        engine = cls(compiler=compiler, fonts=fonts, root=root)
        weakref.finalize(engine, _remove_folder, root, os.getpid())
        return engine

    @property
    def fonts(self) -> FontSet:
        return self._fonts

    def city_seal(self, mayor_title: str) -> bytes:
        """The city seal PNG for MAYOR_TITLE, drawn once and kept."""
        return self._seal(mayor_title)[0]

    def _seal_png(self, mayor_title: str) -> bytes:
        return city_seal_png(mayor_title, font_file=self._fonts.gothic)

    def _seal(self, mayor_title: str) -> tuple[bytes, str]:
        """The seal PNG and its file in the working folder (relative to the templates), written once."""
        cached = self._seals.get(mayor_title)
        if cached is None:
            png = self._seal_png(mayor_title)
            name = f"{SEAL_FOLDER}/{hashlib.sha256(png).hexdigest()[:32]}.png"
            (self._root / name).write_bytes(png)
            cached = (png, name)
            self._seals[mayor_title] = cached
        return cached

    def render(self, request: DocumentRequest, view: CertifiedView, *, qr_svg: str) -> bytes:
        """The unsigned PDF of REQUEST: certified VIEW laid out by its kind's template, with seal and QR."""
        images: dict[str, str] = {"seal": self._seal(request.header.mayor_title)[1], "qr": qr_svg}
        # "seal" names a PNG file in the working folder; "qr" and "impression" are SVG text.
        if isinstance(request.content, SealCertificateContent):
            images["impression"] = png_as_svg(
                request.content.impression_png, width=PERSONAL_SEAL_PIXELS, height=PERSONAL_SEAL_PIXELS
            )
        if os.getpid() != self._owner:
            # A forked child would share the working folder (and typst's threads do not survive a fork).
            raise RenderError("a RenderEngine serves only the process that created it; create one per process")
        inputs = self._root / INPUT_FOLDER
        with self._lock:  # one document at a time: the input files are the engine's
            (inputs / "certified.json").write_bytes(view.canonical)
            (inputs / "images.json").write_text(json.dumps(images), encoding="utf-8")
            try:
                pdf = self._compiler.compile(timestamp=request.header.issued_at, pdf_tags=PDF_TAGS)
            except typst.TypstError as exc:
                raise RenderError(f"layout {request.kind} failed: {exc.message}") from exc
            finally:  # the resident's data does not stay behind
                (inputs / "certified.json").unlink(missing_ok=True)
                (inputs / "images.json").unlink(missing_ok=True)
        if not isinstance(pdf, bytes):  # pragma: no cover - PDF output is one document
            raise RenderError("typst returned no PDF")
        return pdf
