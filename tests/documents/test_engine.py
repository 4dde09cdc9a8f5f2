"""The rendering engine's working folder: private, in turn for each document, nothing left behind."""

from __future__ import annotations

import gc
import os
import stat
import subprocess
from pathlib import Path

import pypdfium2 as pdfium

from yakuba.documents import DocumentKind, RenderEngine, certified_view, sample_request
from yakuba.documents._checks import check_required_elements
from yakuba.documents._engine import FOLDER_PREFIX, RenderError, _remove_orphans
from yakuba.documents._summary import qr_svg
from yakuba.documents._verify import CERTIFIED_ATTACHMENT

from .conftest import ISSUED_AT


def _attachment(pdf: bytes) -> bytes:
    document = pdfium.PdfDocument(pdf)
    try:
        for index in range(document.count_attachments()):
            attachment = document.get_attachment(index)
            if attachment.get_name() == CERTIFIED_ATTACHMENT:
                return bytes(attachment.get_data())
    finally:
        document.close()
    raise AssertionError("no certified content attached")


def test_documents_rendered_in_turn_carry_their_own_content(engine: RenderEngine) -> None:
    # The same kind back to back, then another kind and back: each PDF holds exactly its own data.
    seeds = [(DocumentKind.RESIDENT_RECORD, 61), (DocumentKind.RESIDENT_RECORD, 62), (DocumentKind.FUHYO, 63)]
    for kind, seed in [*seeds, seeds[0]]:
        request = sample_request(kind, seed=seed, issued_at=ISSUED_AT)
        view = certified_view(request)
        pdf = engine.render(request, view, qr_svg=qr_svg(f"YKB1|{seed}"))
        assert _attachment(pdf) == view.canonical
        assert check_required_elements(pdf, view.fields) >= 1


def test_working_folder_is_private_and_keeps_no_document(engine: RenderEngine) -> None:
    root = engine._root
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    request = sample_request(DocumentKind.RESIDENT_RECORD, seed=64, issued_at=ISSUED_AT)
    engine.render(request, certified_view(request), qr_svg=qr_svg("YKB1|64"))
    assert list((root / "input").iterdir()) == [], "the resident's data is removed after each render"


def test_working_folder_goes_with_the_engine() -> None:
    engine = RenderEngine.create()
    root = engine._root
    assert (root / "main.typ").is_file()
    del engine
    gc.collect()
    assert not root.exists()


def test_a_forked_child_does_not_share_the_engine(engine: RenderEngine) -> None:
    request = sample_request(DocumentKind.RESIDENT_RECORD, seed=65, issued_at=ISSUED_AT)
    view = certified_view(request)
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        try:
            engine.render(request, view, qr_svg="<svg/>")
            message = "rendered"
        except RenderError as exc:
            message = str(exc)
        os.write(write, message.encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        outcome = pipe.read().decode()
    os.waitpid(child, 0)
    assert "only the process that created it" in outcome
    assert check_required_elements(engine.render(request, view, qr_svg=qr_svg("YKB1|65")), view.fields) == 1


def test_folders_of_dead_processes_are_removed(tmp_path: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    orphan = tmp_path / f"{FOLDER_PREFIX}{dead.pid}-abc"
    mine = tmp_path / f"{FOLDER_PREFIX}{os.getpid()}-def"
    unrelated = tmp_path / "yakuba-typst-no-pid"
    for folder in (orphan, mine, unrelated):
        (folder / "input").mkdir(parents=True)
    _remove_orphans(tmp_path)
    assert not orphan.exists()
    assert mine.exists()
    assert unrelated.exists()
